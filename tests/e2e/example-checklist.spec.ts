/**
 * The kit as a stranger adopts it: `npm pack` the package, install the
 * tarball into a copy of examples/checklist (an app with its own actions and
 * its own Phoenix-protocol server, no chat code), type-check it against the
 * published types, build it, serve it, and go offline in Chromium: toggle,
 * rename and add, reload while offline, come back, and find every change
 * applied exactly once, in the order made.
 */
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures/test.js';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'vite';

const repo = resolve('.');
const port = Number(process.env.EXAMPLE_PORT ?? 4391);
const url = `http://127.0.0.1:${port}`;
let work = '';
let server: ChildProcess | null = null;

/** Run a command; its output goes into the error when it fails. */
function sh(command: string, args: string[], cwd: string): void {
	try {
		execFileSync(command, args, { cwd, stdio: 'pipe', encoding: 'utf8' });
	} catch (error) {
		const e = error as { stdout?: string; stderr?: string; message: string };
		throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${e.stdout ?? ''}${e.stderr ?? ''}${e.message}`);
	}
}

interface Applied {
	user: string;
	client_id: string;
	type: string;
	list: string;
}

test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
	test.setTimeout(300_000);
	work = mkdtempSync(join(tmpdir(), 'outbox-example-'));
	// 1. The package, as npm would publish it (prepack builds dist/ and runs publint).
	sh('npm', ['pack', '--pack-destination', work], repo);
	const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
	if (!tarball) throw new Error('npm pack made no tarball');
	// 2. The example app, installed against the tarball in a folder of its own.
	const app = join(work, 'app');
	cpSync(join(repo, 'examples/checklist'), app, { recursive: true, filter: (src) => !/node_modules|[/\\]dist$/.test(src) });
	const pkg = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
	pkg.dependencies.outbox = `file:${join(work, tarball)}`;
	writeFileSync(join(app, 'package.json'), JSON.stringify(pkg, null, 2));
	sh('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], app);
	// 3. Its TypeScript against the published types (typed actions, replies, views), then its build.
	sh(join(repo, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json'], app);
	sh(join(app, 'node_modules/.bin/vite'), ['build', '--logLevel', 'warn'], app);
	// 4. Its server (Outbox's channel layer and its own store), built into the repo (its `ws` comes from here) and started.
	const serverDir = join(repo, 'test-results/example-checklist-server');
	await build({
		configFile: false,
		logLevel: 'warn',
		build: { ssr: join(repo, 'examples/checklist/server/server.ts'), outDir: serverDir, emptyOutDir: true, target: 'node20', rollupOptions: { output: { entryFileNames: 'server.js', format: 'es' } } }
	});
	server = spawn(process.execPath, [join(serverDir, 'server.js')], { env: { ...process.env, PORT: String(port), STATIC_DIR: join(app, 'dist') }, stdio: ['ignore', 'pipe', 'pipe'] });
	let output = '';
	server.stdout?.on('data', (chunk) => (output += String(chunk)));
	server.stderr?.on('data', (chunk) => (output += String(chunk)));
	await expect
		.poll(() => fetch(`${url}/debug/applied`).then((r) => r.status, () => 0), { timeout: 15_000, message: `the example server did not start:\n${output}` })
		.toBe(200);
});

test.afterAll(async () => {
	server?.kill('SIGTERM');
	if (work) rmSync(work, { recursive: true, force: true });
});

async function applied(): Promise<{ applied: Applied[]; items: Array<{ id: string; title: string; done: boolean }> }> {
	return (await fetch(`${url}/debug/applied`)).json();
}

const row = (page: Page, title: string) => page.getByTestId('item').filter({ has: page.getByTestId('item-title').getByText(title, { exact: true }) });
const rows = (page: Page) =>
	page.getByTestId('item').evaluateAll((items) =>
		items.map((li) => ({
			title: li.querySelector('[data-testid="item-title"]')?.textContent ?? '',
			done: li.getAttribute('data-done') === 'true',
			status: li.getAttribute('data-status')
		}))
	);

test('offline: toggles, renames and adds survive a reload and reach the server exactly once, in order', async ({ browser }) => {
	const context = await browser.newContext();
	const page = await context.newPage();
	await page.goto(url);
	await page.getByTestId('name-input').fill('ann');
	await page.getByTestId('name-submit').click();
	await expect(page.getByTestId('status')).toHaveAttribute('data-status', 'connected');
	for (const title of ['milk', 'eggs', 'bread']) {
		await page.getByTestId('add-input').fill(title);
		await page.getByTestId('add-button').click();
	}
	await expect.poll(() => rows(page)).toEqual(['milk', 'eggs', 'bread'].map((title) => ({ title, done: false, status: 'sent' })));

	// The shell is cached by the example's service worker once it controls the page.
	await page.evaluate(() => navigator.serviceWorker.ready);
	await page.reload();
	await expect(page.getByTestId('status')).toHaveAttribute('data-status', 'connected');
	await expect.poll(() => page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);

	await context.setOffline(true);
	await expect(page.getByTestId('status')).toHaveAttribute('data-status', 'disconnected');
	await row(page, 'milk').getByTestId('toggle').click();
	await row(page, 'eggs').getByTestId('rename-input').fill('free-range eggs');
	await row(page, 'eggs').getByTestId('rename-button').click();
	await page.getByTestId('add-input').fill('butter');
	await page.getByTestId('add-button').click();
	await row(page, 'bread').getByTestId('toggle').click();
	await expect(row(page, 'bread')).toHaveAttribute('data-done', 'true');
	await row(page, 'bread').getByTestId('toggle').click();
	await expect(page.getByTestId('pending')).toHaveText('5 unsent');
	const offline = [
		{ title: 'milk', done: true, status: 'pending' },
		{ title: 'free-range eggs', done: false, status: 'pending' },
		{ title: 'bread', done: false, status: 'pending' },
		{ title: 'butter', done: false, status: 'pending' }
	];
	await expect.poll(() => rows(page)).toEqual(offline);

	// A reload while offline: the shell from the worker, the queue and the last list from IndexedDB.
	await page.reload();
	await expect(page.getByTestId('status')).toHaveAttribute('data-status', 'disconnected');
	await expect.poll(() => rows(page)).toEqual(offline);
	await expect(page.getByTestId('pending')).toHaveText('5 unsent');
	expect((await applied()).applied).toHaveLength(3); // nothing reached the server while offline

	await context.setOffline(false);
	await expect(page.getByTestId('pending')).toHaveText('0 unsent', { timeout: 15_000 });
	const final = offline.map((r) => ({ ...r, status: 'sent' }));
	await expect.poll(() => rows(page)).toEqual(final);

	const server = await applied();
	// Exactly once: 3 adds online, then the 5 offline changes, each client_id once, in the order made.
	expect(server.applied.map((a) => a.type)).toEqual(['item_add', 'item_add', 'item_add', 'item_toggle', 'item_rename', 'item_add', 'item_toggle', 'item_toggle']);
	expect(new Set(server.applied.map((a) => a.client_id)).size).toBe(8);
	expect(server.applied.every((a) => a.user === 'ann' && a.list === 'groceries')).toBe(true);
	expect(server.items.map(({ title, done }) => ({ title, done }))).toEqual(final.map(({ title, done }) => ({ title, done })));

	// Another person opening the list sees the same, from the server.
	const other = await browser.newContext();
	const bob = await other.newPage();
	await bob.goto(url);
	await bob.getByTestId('name-input').fill('bob');
	await bob.getByTestId('name-submit').click();
	await expect.poll(() => rows(bob)).toEqual(final);
	await page.screenshot({ path: 'test-results/example-checklist.png' });
	await other.close();
	await context.close();
});
