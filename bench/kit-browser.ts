/**
 * The kit in Chromium against the real server (the built app, `/dev/kit`
 * page), side by side with the common naive pattern, in one run:
 *
 * - kit: 10,000 actions added while offline (each durable in IndexedDB before
 *   its `add` resolves), then restored after a reload, then confirmed by the
 *   server after the `online` event; and 100 pending confirmed after `online`;
 * - naive: the whole queue rewritten to localStorage on every add, and a
 *   flush that awaits one push at a time (fewer actions: it is quadratic /
 *   one round trip each, so 10,000 would take minutes; and the server lets one
 *   socket burst 300 events, then 100 a second, where the kit sends batches).
 *
 * Needs the build (`npm run build`, run here when missing) and a Chromium
 * (scripts/chromium.js finds or installs one).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Page } from '@playwright/test';
import { ensureChromium } from '../scripts/chromium.js';
import { result, type Result } from './lib/result.js';

const N = Number(process.env.BENCH_KIT_ACTIONS ?? 10_000);
const NAIVE_ADDS = Number(process.env.BENCH_NAIVE_ADDS ?? 2_000);
// Within one socket's rate-limit burst (300), so it measures round trips, not the limit.
const NAIVE_PUSHES = Number(process.env.BENCH_NAIVE_PUSHES ?? 300);
const results: Result[] = [];

function record(name: string, messages: number, ms: number): void {
	results.push(result(name, messages, ms));
}

async function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const address = server.address();
			server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
		});
	});
}

async function startServer(): Promise<{ url: string; child: ChildProcess; dataDir: string }> {
	if (!existsSync('build-server/main.js') || !existsSync('build/handler.js')) {
		console.log('[bench] building the app (npm run build)…');
		execFileSync('npm', ['run', 'build'], { stdio: 'inherit' });
	}
	const port = await freePort();
	const dataDir = mkdtempSync(join(tmpdir(), 'outbox-bench-kit-'));
	const child = spawn(process.execPath, ['build-server/main.js'], {
		env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'warn', OUTBOX_DEV_PAGES: '1' },
		stdio: ['ignore', 'ignore', 'inherit']
	});
	const url = `http://127.0.0.1:${port}`;
	for (let i = 0; i < 200; i++) {
		try {
			if ((await fetch(url + '/api/session')).status === 401) return { url, child, dataDir };
		} catch {
			// not listening yet
		}
		await new Promise((r) => setTimeout(r, 100));
	}
	child.kill();
	throw new Error('the app server did not start');
}

async function signIn(url: string, name: string) {
	const res = await fetch(url + '/api/session', {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify({ name, password: `pw-${name}` })
	});
	return (await res.json()) as { token: string; user: { id: string; name: string } };
}

type Session = { token: string; user: object };

/** /dev/kit has put the kit on `window.__kit`. */
function kitLoaded(page: Page): Promise<unknown> {
	return page.waitForFunction(() => (window as never as { __kit?: unknown }).__kit !== undefined);
}

/**
 * In the page: an engine for `session` on IndexedDB (`window.__outbox`), and
 * the time of the next `online` event (`window.__onlineAt`). Resolves with the
 * ms until the engine has loaded its queue.
 */
function startEngine(page: Page, url: string, session: Session): Promise<number> {
	return page.evaluate(async ({ session, url }) => {
		const w = window as never as { __kit: any; __outbox: any; __onlineAt: number | null };
		w.__onlineAt = null;
		window.addEventListener('online', () => (w.__onlineAt = performance.now()));
		const t0 = performance.now();
		const endpoint = url.replace('http', 'ws') + '/socket';
		w.__outbox = w.__kit.createBrowserOutbox({ token: () => session.token, user: session.user, endpoint, storage: { name: 'bench' }, eventTarget: null });
		await w.__outbox.ready;
		return performance.now() - t0;
	}, { session, url });
}

/** Open /dev/kit, wait for the service worker (it serves the shell for a reload while offline), start an engine. */
async function openEngine(page: Page, url: string, session: Session): Promise<void> {
	await page.goto(url + '/dev/kit');
	await kitLoaded(page);
	await page.evaluate(() => navigator.serviceWorker.ready);
	await startEngine(page, url, session);
}

/** In the page: ms from the `online` event until the queue is empty. */
function drainedAfterOnline(page: Page): Promise<number> {
	return page.evaluate(
		() =>
			new Promise<number>((resolve) => {
				const w = window as never as { __outbox: any; __onlineAt: number | null };
				const check = () => {
					if (w.__onlineAt !== null && w.__outbox.count === 0) {
						resolve(performance.now() - w.__onlineAt);
						return true;
					}
					return false;
				};
				if (check()) return;
				const stop = w.__outbox.queue.subscribe(() => {
					if (check()) queueMicrotask(() => stop());
				});
			})
	);
}

async function kitRuns(url: string, executablePath: string): Promise<void> {
	const browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-gpu'] });
	try {
		// 10,000: add offline, restore after a reload, confirm after online.
		{
			const session = await signIn(url, 'bench-kit');
			const context = await browser.newContext();
			const page = await context.newPage();
			await openEngine(page, url, session);
			await context.setOffline(true);
			const addMs = await page.evaluate(async (n) => {
				const outbox = (window as never as { __outbox: any }).__outbox;
				const t0 = performance.now();
				await Promise.all(Array.from({ length: n }, (_, i) => outbox.add('send_message', 'room:bench-kit', { body: `action ${i}` })));
				return performance.now() - t0;
			}, N);
			record(`kit: add ${N.toLocaleString('en')} offline, each durable (IndexedDB)`, N, addMs);

			await page.reload();
			await kitLoaded(page);
			const restoreMs = await startEngine(page, url, session);
			const restored = await page.evaluate(() => (window as never as { __outbox: any }).__outbox.count);
			if (restored !== N) throw new Error(`restored ${restored} of ${N}`);
			record(`kit: restore ${N.toLocaleString('en')} pending after a reload`, N, restoreMs);

			await context.setOffline(false);
			const drainMs = await drainedAfterOnline(page);
			record(`kit: ${N.toLocaleString('en')} confirmed by the server after online`, N, drainMs);
			await context.close();
		}
		// 100 pending after online.
		{
			const session = await signIn(url, 'bench-kit-100');
			const context = await browser.newContext();
			const page = await context.newPage();
			await openEngine(page, url, session);
			await context.setOffline(true);
			await page.evaluate(async () => {
				const outbox = (window as never as { __outbox: any }).__outbox;
				await Promise.all(Array.from({ length: 100 }, (_, i) => outbox.add('send_message', 'room:bench-100', { body: `m ${i}` })));
			});
			await context.setOffline(false);
			record('kit: 100 confirmed by the server after online', 100, await drainedAfterOnline(page));
			await context.close();
		}
		// The naive pattern, beside it.
		{
			const session = await signIn(url, 'bench-naive');
			const context = await browser.newContext();
			const page = await context.newPage();
			await page.goto(url + '/dev/kit');
			await kitLoaded(page);
			const naiveAddMs = await page.evaluate((n) => {
				const queue: object[] = [];
				const t0 = performance.now();
				for (let i = 0; i < n; i++) {
					queue.push({ id: `n${i}`, type: 'send_message', topic: 'room:naive', payload: { body: `action ${i}` }, createdAt: Date.now(), attempts: 0, status: 'queued' });
					localStorage.setItem('naive-queue', JSON.stringify(queue));
				}
				return performance.now() - t0;
			}, NAIVE_ADDS);
			record(`naive: add ${NAIVE_ADDS.toLocaleString('en')}, whole queue rewritten to localStorage each time`, NAIVE_ADDS, naiveAddMs);

			const naiveFlushMs = await page.evaluate(
				async ({ n, token, url }) => {
					const { Socket } = (window as never as { __kit: any }).__kit;
					const socket = new Socket(url.replace('http', 'ws') + '/socket', { authToken: token });
					socket.connect();
					const channel = socket.channel('room:naive');
					await new Promise((resolve, reject) => channel.join().receive('ok', resolve).receive('error', reject));
					const t0 = performance.now();
					for (let i = 0; i < n; i++) {
						await new Promise((resolve, reject) =>
							channel.push('send_message', { client_id: `naive-${i}`, body: `action ${i}` }).receive('ok', resolve).receive('error', reject).receive('timeout', reject)
						);
					}
					const ms = performance.now() - t0;
					socket.disconnect();
					return ms;
				},
				{ n: NAIVE_PUSHES, token: session.token, url }
			);
			record(`naive: flush ${NAIVE_PUSHES.toLocaleString('en')}, awaiting one push at a time`, NAIVE_PUSHES, naiveFlushMs);
			await context.close();
		}
	} finally {
		await browser.close();
	}
}

const executablePath: string = await ensureChromium();
const server = await startServer();
try {
	await kitRuns(server.url, executablePath);
} finally {
	server.child.kill('SIGTERM');
	await new Promise((r) => setTimeout(r, 300));
	rmSync(server.dataDir, { recursive: true, force: true });
}
console.log('BENCH_JSON ' + JSON.stringify(results));
