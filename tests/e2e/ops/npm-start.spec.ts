/**
 * `npm start` in one folder, several times over (DESIGN.md "Commands"): it
 * builds only when the sources changed, builds into a new folder and swaps
 * it in, and never rewrites the build a running server serves. Here: a copy
 * of the project (its own .builds/), server A started from an up-to-date
 * build (no build), a source edited, then B and C started at once (one
 * builds under the lock, the other waits and serves the same build) while a
 * browser keeps loading pages from A; A keeps serving its own assets, even
 * one deleted under it costs a 404, not the process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect, test, type Page } from '../fixtures/test.js';

const ROOT = resolve('.');
const COPIED = ['src', 'static', 'scripts', 'svelte.config.js', 'vite.config.ts', 'tsconfig.json', 'package.json', 'package-lock.json'];

interface Started {
	child: ChildProcess;
	url: string;
	lines: string[];
	exited: Promise<number | null>;
}

async function freePort(): Promise<number> {
	return new Promise((resolvePort, reject) => {
		const server = createServer();
		server.on('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const { port } = server.address() as { port: number };
			server.close(() => resolvePort(port));
		});
	});
}

/** `node scripts/start.js` (what `npm start` runs) in `dir`; resolves once it answers HTTP. */
async function start(dir: string, name: string): Promise<Started> {
	const port = await freePort();
	const child = spawn(process.execPath, ['scripts/start.js'], {
		cwd: dir,
		env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: join(dir, `data-${name}`), LOG_LEVEL: 'info', OUTBOX_DEV_PAGES: '0' },
		stdio: ['ignore', 'pipe', 'pipe']
	});
	const lines: string[] = [];
	let partial = '';
	const collect = (chunk: Buffer) => {
		const text = partial + chunk.toString('utf8');
		const parts = text.split('\n');
		partial = parts.pop()!;
		lines.push(...parts.filter(Boolean));
	};
	child.stdout!.on('data', collect);
	child.stderr!.on('data', collect);
	const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
	const url = `http://127.0.0.1:${port}`;
	const deadline = Date.now() + 240_000;
	for (;;) {
		if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}:\n${lines.join('\n')}`);
		if (Date.now() > deadline) throw new Error(`${name} did not answer:\n${lines.join('\n')}`);
		const up = await fetch(url + '/healthz').then((r) => r.ok, () => false);
		if (up) return { child, url, lines, exited };
		await new Promise((r) => setTimeout(r, 200));
	}
}

/** The build a page's HTML points at (its entry script's content-hashed name). */
async function entryScript(url: string): Promise<string> {
	const html = await (await fetch(url + '/')).text();
	const match = /\/_app\/immutable\/entry\/start\.[\w-]+\.js/.exec(html);
	if (!match) throw new Error(`no entry script in ${html}`);
	return match[0];
}

async function loadsTheApp(page: Page, url: string): Promise<void> {
	await page.goto(url + '/');
	await expect(page.getByTestId('signin-name')).toBeVisible();
}

test('two npm start in one folder while a third serves: one build under the lock, a new folder swapped in, the old build still served', async ({ page }) => {
	test.setTimeout(420_000);
	const dir = mkdtempSync(join(tmpdir(), 'outbox-start-'));
	const servers: Started[] = [];
	try {
		for (const entry of COPIED) cpSync(join(ROOT, entry), join(dir, entry), { recursive: true, preserveTimestamps: true });
		symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
		// Seed the copy with this checkout's build, recorded as made from the copy's sources: up to date.
		const seeded = join(dir, '.builds', 'seeded');
		mkdirSync(join(dir, '.builds'));
		cpSync(realpathSync(join(ROOT, 'build')), seeded, { recursive: true, filter: (path) => !path.includes('.leases') });
		const { sourceFingerprint } = (await import(pathToFileURL(join(dir, 'scripts/build-state.js')).href)) as { sourceFingerprint(): string };
		writeFileSync(join(seeded, 'build-info.json'), JSON.stringify({ id: 'seeded', fingerprint: sourceFingerprint() }));
		symlinkSync('.builds/seeded', join(dir, 'build'));

		// A: nothing changed, so no build; every line it prints is JSON.
		const a = await start(dir, 'a');
		servers.push(a);
		expect(a.lines.some((line) => line.includes('"source":"build"'))).toBe(false);
		for (const line of a.lines) expect(() => JSON.parse(line), line).not.toThrow();
		const oldEntry = await entryScript(a.url);
		await loadsTheApp(page, a.url);
		expect(readdirSync(join(seeded, '.leases'))).toEqual([String(a.child.pid)]);

		// A source changes; B and C start at once.
		const layout = join(dir, 'src/routes/+layout.svelte');
		writeFileSync(layout, readFileSync(layout, 'utf8').replace('<title>Outbox</title>', '<title>Outbox, rebuilt</title>'));
		const both = Promise.all([start(dir, 'b'), start(dir, 'c')]);
		// Meanwhile A keeps serving pages and its own assets to the browser.
		let reloads = 0;
		let settled = false;
		void both.finally(() => (settled = true));
		while (!settled) {
			await loadsTheApp(page, a.url);
			expect((await fetch(a.url + oldEntry)).status).toBe(200);
			reloads++;
			await new Promise((r) => setTimeout(r, 500));
		}
		const [b, c] = await both;
		servers.push(b, c);
		expect(reloads).toBeGreaterThan(0);

		// One build ran (under the lock); the other start waited for it and built nothing.
		const built = [b, c].filter((s) => s.lines.some((line) => line.includes('built .builds/')));
		expect(built).toHaveLength(1);
		const waited = [b, c].find((s) => s !== built[0])!;
		expect(waited.lines.some((line) => /another build is running|build is up to date/.test(line))).toBe(true);
		expect(waited.lines.some((line) => line.includes('vite'))).toBe(false);
		for (const line of [...b.lines, ...c.lines]) expect(() => JSON.parse(line), line).not.toThrow();

		// B and C serve the new build; A still serves the old one, from the old folder.
		const newEntry = await entryScript(b.url);
		expect(newEntry).not.toBe(oldEntry);
		expect(await entryScript(c.url)).toBe(newEntry);
		expect(await entryScript(a.url)).toBe(oldEntry);
		expect(realpathSync(join(dir, 'build'))).not.toBe(realpathSync(seeded));
		expect(existsSync(join(seeded, 'client', oldEntry))).toBe(true);
		await loadsTheApp(page, b.url);
		await loadsTheApp(page, a.url);

		// A file of A's build deleted under it: a 404, and A goes on serving.
		const gone = join(seeded, 'client', oldEntry);
		for (const variant of ['', '.br', '.gz']) if (existsSync(gone + variant)) unlinkSync(gone + variant);
		expect((await fetch(a.url + oldEntry, { headers: { 'accept-encoding': 'br, gzip' } })).status).toBe(404);
		expect((await fetch(a.url + '/healthz')).status).toBe(200);
		expect(a.child.exitCode).toBeNull();

		// A page that does not exist: SvelteKit's own report of it goes to the log as JSON too.
		expect((await fetch(a.url + '/no/such/page')).status).toBe(404);

		// SIGTERM: exit 0, and A's lease on its build is gone with it.
		for (const server of servers) server.child.kill('SIGTERM');
		expect(await Promise.all(servers.map((s) => s.exited))).toEqual([0, 0, 0]);
		for (const line of servers.flatMap((s) => s.lines)) expect(() => JSON.parse(line), line).not.toThrow();
		expect(a.lines.some((line) => line.includes('"path":"/no/such/page","status":404'))).toBe(true);
		expect(readdirSync(join(seeded, '.leases'))).toEqual([]);
	} finally {
		for (const server of servers) if (server.child.exitCode === null) server.child.kill('SIGKILL');
		rmSync(dir, { recursive: true, force: true });
	}
});
