/**
 * The container files cannot be built here (no Docker engine), so they are
 * checked for what a deployer relies on: they parse, and they agree with
 * each other and with the app (ports, health endpoint, entry file, settings).
 */
import { existsSync, readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { parse } from 'yaml';

const dockerfile = readFileSync('Dockerfile', 'utf8');
const instructions = dockerfile
	.replace(/\\\n/g, ' ')
	.split('\n')
	.filter((line) => line.trim() && !line.trim().startsWith('#'));

test('Dockerfile: multi-stage, npm ci from the lockfile, non-root, a health check on /healthz, runs the built entry', () => {
	expect(instructions.filter((line) => line.startsWith('FROM ')).length).toBeGreaterThanOrEqual(2);
	expect(instructions.filter((line) => /^RUN npm ci\b/.test(line)).length).toBeGreaterThanOrEqual(1);
	expect(instructions.some((line) => /\bnpm install\b/.test(line))).toBe(false);
	const users = instructions.filter((line) => line.startsWith('USER '));
	expect(users.length).toBeGreaterThan(0);
	expect(users.at(-1)).not.toMatch(/^USER (root|0)\b/);
	expect(instructions.find((line) => line.startsWith('HEALTHCHECK '))).toContain('/healthz');
	expect(instructions.at(-1)).toBe('CMD ["node", "build/main.js"]');
	// The entry the build writes (scripts/build-server.js) is the one the image runs.
	expect(readFileSync('scripts/build-server.js', 'utf8')).toContain("entryFileNames: 'main.js'");
	expect(instructions).toContain('EXPOSE 3000');
	const ignored = readFileSync('.dockerignore', 'utf8').split('\n');
	for (const path of ['node_modules', '.builds', 'data', '.git']) expect(ignored).toContain(path);
});

test('compose.yaml: PostgreSQL and two app nodes behind a proxy, sharing one database and one secret', () => {
	const compose = parse(readFileSync('compose.yaml', 'utf8'), { merge: true }) as {
		services: Record<string, { build?: string; image?: string; environment?: Record<string, string>; volumes?: string[]; depends_on?: unknown; ports?: string[] }>;
	};
	const { db, app1, app2, proxy } = compose.services;
	expect(db?.image).toMatch(/^postgres:/);
	for (const app of [app1, app2]) {
		expect(app?.build).toBe('.');
		expect(app?.environment?.DATABASE_URL).toMatch(/^postgres:\/\/outbox:.*@db:5432\/outbox$/);
		expect(app?.environment?.TRUST_PROXY).toBe('1');
		expect(app?.environment?.SECRET_KEY).toMatch(/OUTBOX_SECRET_KEY/);
	}
	expect(app1!.environment).toEqual(app2!.environment);
	expect(proxy?.image).toMatch(/^caddy:/);
	const mount = proxy!.volumes!.find((v) => v.includes('Caddyfile'))!;
	const file = mount.split(':')[0]!;
	expect(existsSync(file)).toBe(true);
	const caddyfile = readFileSync(file, 'utf8');
	expect(caddyfile).toMatch(/reverse_proxy app1:3000 app2:3000/);
	expect(caddyfile).toMatch(/health_uri \/readyz/);
	expect(proxy!.ports).toEqual(expect.arrayContaining(['443:443']));
});
