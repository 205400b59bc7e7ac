/**
 * The supply chain, read from the files that decide it: package-lock.json
 * pins every package (exact version + integrity hash), no package runs an
 * install script except better-sqlite3 (it compiles its native SQLite
 * binding), and docs/security.md says why each runtime dependency is there.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('../../../', import.meta.url);
const lock = JSON.parse(readFileSync(new URL('package-lock.json', root), 'utf8')) as {
	lockfileVersion: number;
	packages: Record<string, { version?: string; integrity?: string; link?: boolean; hasInstallScript?: boolean; dev?: boolean }>;
};
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as {
	dependencies: Record<string, string>;
	peerDependencies: Record<string, string>;
	devDependencies: Record<string, string>;
};
const securityDoc = readFileSync(new URL('docs/security.md', root), 'utf8');

/** Packages only install scripts of which are allowed (the issue's list: better-sqlite3's build of SQLite). */
export const ALLOWED_INSTALL_SCRIPTS = new Set(['better-sqlite3']);

/**
 * What runs in production: the kit's dependencies and peers (in every app's
 * bundle), and what the server and the app import (see docs/security.md).
 */
export const RUNTIME_DEPENDENCIES = [
	...Object.keys(pkg.dependencies),
	...Object.keys(pkg.peerDependencies),
	'@sveltejs/kit',
	'better-sqlite3',
	'content-disposition',
	'mrmime',
	'pg',
	'pino',
	'prom-client',
	'rate-limiter-flexible',
	'ws',
	'zod'
];

const nameOf = (path: string) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
const installed = Object.entries(lock.packages).filter(([path]) => path !== '');

describe('package-lock.json', () => {
	it('is a v3 lockfile that pins every package to one version with an integrity hash', () => {
		expect(lock.lockfileVersion).toBe(3);
		expect(installed.length).toBeGreaterThan(100);
		const loose = installed.filter(([, entry]) => !entry.link && !(entry.version && /^sha512-/.test(entry.integrity ?? '')));
		expect(loose.map(([path]) => path)).toEqual([]);
	});

	it('has no install script except better-sqlite3', () => {
		const scripted = installed.filter(([, entry]) => entry.hasInstallScript).map(([path]) => nameOf(path));
		expect(scripted.filter((name) => !ALLOWED_INSTALL_SCRIPTS.has(name))).toEqual([]);
		// The allowance is used (else the list is stale and should shrink).
		expect(scripted).toContain('better-sqlite3');
	});

	it('drops the native helpers of the old `websocket` package (bufferutil, utf-8-validate, es5-ext)', () => {
		const names = installed.map(([path]) => nameOf(path));
		for (const name of ['bufferutil', 'utf-8-validate', 'es5-ext']) expect(names).not.toContain(name);
	});

	it('pins every runtime dependency, and docs/security.md says why each is there', () => {
		for (const name of RUNTIME_DEPENDENCIES) {
			const entry = lock.packages[`node_modules/${name}`];
			expect(entry?.version, `${name} in package-lock.json`).toMatch(/^\d+\.\d+\.\d+/);
			expect(securityDoc, `docs/security.md lists ${name}`).toContain(`\`${name}\``);
		}
	});
});

describe('docs/security.md', () => {
	it('links only to tests and docs that exist, and names a test for every threat', () => {
		const links = [...securityDoc.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)].map((m) => m[1]!).filter((href) => !/^https?:/.test(href));
		expect(links.length).toBeGreaterThan(20);
		for (const href of links) expect(existsSync(new URL(href, new URL('docs/', root))), href).toBe(true);
		const threats = securityDoc.split(/^### /m).slice(1);
		expect(threats.length).toBeGreaterThanOrEqual(8);
		for (const threat of threats) expect(threat, threat.split('\n')[0]).toMatch(/\]\(\.\.\/tests\/|\(below\)/);
	});
});
