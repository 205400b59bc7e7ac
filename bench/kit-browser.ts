/**
 * The kit in Chromium against the real server (the built app, `/dev/kit`
 * page), side by side with the common naive pattern, in one run:
 *
 * - kit: 10,000 actions added while offline (each durable in IndexedDB before
 *   its `add` resolves), then restored after a reload, then confirmed by the
 *   server after the `online` event; and 100 pending confirmed after `online`;
 * - the floor: a hand-written raw IndexedDB queue (all adds in one
 *   transaction; drained by pipelined `send_batch`es of 100 over the official
 *   client, each reply deleting its keys in one transaction): what no library
 *   can beat;
 * - TanStack Query v5: paused mutations persisted with
 *   `@tanstack/query-persist-client-core` and the async storage persister over
 *   IndexedDB (idb-keyval), scoped per room (`scope.id`), as its docs describe
 *   for offline mutations; each mutation one `send_message` push;
 * - naive: the whole queue rewritten to localStorage on every add, and a
 *   flush that awaits one push at a time.
 *
 * The kit and the floor queue N actions (BENCH_KIT_ACTIONS, 10,000), TanStack
 * and the naive pattern fewer (BENCH_PEER_ACTIONS, 5,000, the size the issue
 * that set the targets measured them at: they grow faster than N), each in one room of its own; "vs the kit" is the pattern's time per
 * action over the kit's (per action favours the smaller runs). The server
 * runs with a per-socket event limit high enough for one push per action
 * (SOCKET_RATE_PER_S / SOCKET_RATE_BURST), so the peers are measured, not the
 * limit (the kit sends batches and stays far below the default).
 *
 * Needs the build (`npm run build`, run here when missing) and a Chromium
 * (scripts/chromium.js finds or installs one).
 */
import { chromium, type Browser, type Page } from '@playwright/test';
import { ensureChromium } from '../scripts/chromium.js';
import { signIn, startServer } from './lib/app-server.js';
import { loadPeers } from './lib/peers.js';
import { result, type Result } from './lib/result.js';

const N = Number(process.env.BENCH_KIT_ACTIONS ?? 10_000);
// The peers whose cost grows faster than N (a whole-queue rewrite per add; a whole persisted client per change)
// queue fewer: 10,000 takes them minutes (TanStack: ~3 min to persist, ~7 to drain) or crashes the tab. Their
// ratio is per action, which favours them.
const PEER_N = Number(process.env.BENCH_PEER_ACTIONS ?? 5_000);
const NAIVE_ADDS = PEER_N;
const NAIVE_PUSHES = PEER_N;
const results: Result[] = [];
/** The kit's time for each measure ("enqueue", "drain"), to print the peers' ratio against it. */
const kitMs: Record<string, number> = {};

function record(name: string, messages: number, ms: number, against?: 'enqueue' | 'drain'): void {
	const made = result(name, messages, ms);
	if (against && kitMs[against] !== undefined) {
		// Per action, so a pattern measured at another N still compares fairly.
		const ratio = ms / messages / (kitMs[against] / N);
		made.vsKit = +ratio.toFixed(ratio < 10 ? 2 : 1);
		console.log(`  ${against}: ${made.vsKit}× the kit's time per action`);
	}
	results.push(made);
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
			kitMs.enqueue = addMs;
			record(`kit: add ${N.toLocaleString('en')} offline, each durable (IndexedDB)`, N, addMs);

			await page.reload();
			await kitLoaded(page);
			const restoreMs = await startEngine(page, url, session);
			const restored = await page.evaluate(() => (window as never as { __outbox: any }).__outbox.count);
			if (restored !== N) throw new Error(`restored ${restored} of ${N}`);
			record(`kit: restore ${N.toLocaleString('en')} pending after a reload`, N, restoreMs);

			await context.setOffline(false);
			const drainMs = await drainedAfterOnline(page);
			kitMs.drain = drainMs;
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
		await floorRuns(browser, url);
		await tanstackRuns(browser, url);
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
			record(`naive: add ${NAIVE_ADDS.toLocaleString('en')}, whole queue rewritten to localStorage each time`, NAIVE_ADDS, naiveAddMs, 'enqueue');

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
			record(`naive: flush ${NAIVE_PUSHES.toLocaleString('en')}, awaiting one push at a time`, NAIVE_PUSHES, naiveFlushMs, 'drain');
			await context.close();
		}
	} finally {
		await browser.close();
	}
}

/** Open an app page (/dev/kit) and put the peers' libraries on `window.__peers` (bench/lib/peers.ts). */
async function openPeers(page: Page, url: string): Promise<void> {
	await page.goto(url + '/dev/kit');
	await kitLoaded(page);
	// The service worker serves the shell for the reload while offline.
	await page.evaluate(() => navigator.serviceWorker.ready);
	await loadPeers(page);
}

/**
 * The floor: a raw IndexedDB queue, every add in one transaction; drained by
 * pipelined `send_batch`es of 100 over one socket, each reply deleting its
 * keys in one transaction. Offline while adding; the drain starts at `online`.
 */
async function floorRuns(browser: Browser, url: string): Promise<void> {
	const session = await signIn(url, 'bench-floor');
	const context = await browser.newContext();
	const page = await context.newPage();
	await openPeers(page, url);
	await context.setOffline(true);
	const addMs = await page.evaluate(async (n) => {
		const db = await new Promise<IDBDatabase>((resolve, reject) => {
			const open = indexedDB.open('floor', 1);
			open.onupgradeneeded = () => open.result.createObjectStore('queue', { keyPath: 'id' });
			open.onsuccess = () => resolve(open.result);
			open.onerror = () => reject(open.error);
		});
		const t0 = performance.now();
		await new Promise<void>((resolve, reject) => {
			const tx = db.transaction('queue', 'readwrite', { durability: 'strict' });
			const store = tx.objectStore('queue');
			for (let i = 0; i < n; i++) store.put({ id: `f${String(i).padStart(8, '0')}`, type: 'send_message', payload: { body: `action ${i}` }, createdAt: Date.now() });
			tx.oncomplete = () => resolve();
			tx.onerror = () => reject(tx.error);
		});
		const ms = performance.now() - t0;
		db.close();
		return ms;
	}, N);
	record(`floor: raw IndexedDB, ${N.toLocaleString('en')} adds in one transaction`, N, addMs, 'enqueue');

	const drain = page.evaluate(
		async ({ token, url }) => {
			const w = window as never as { __peers: any };
			await new Promise((resolve) => window.addEventListener('online', resolve, { once: true }));
			const t0 = performance.now();
			const db = await new Promise<IDBDatabase>((resolve, reject) => {
				const open = indexedDB.open('floor', 1);
				open.onsuccess = () => resolve(open.result);
				open.onerror = () => reject(open.error);
			});
			const items = await new Promise<{ id: string; type: string; payload: object }[]>((resolve, reject) => {
				const get = db.transaction('queue').objectStore('queue').getAll();
				get.onsuccess = () => resolve(get.result);
				get.onerror = () => reject(get.error);
			});
			const socket = new w.__peers.Socket(url.replace('http', 'ws') + '/socket', { authToken: token });
			socket.connect();
			const channel = socket.channel('room:bench-floor');
			await new Promise((resolve, reject) => channel.join().receive('ok', resolve).receive('error', reject));
			const batches: Promise<void>[] = [];
			for (let at = 0; at < items.length; at += 100) {
				const batch = items.slice(at, at + 100);
				batches.push(
					new Promise<void>((resolve, reject) => {
						channel
							.push('send_batch', { actions: batch.map((item) => ({ client_id: item.id, type: item.type, payload: item.payload })) }, 60_000)
							.receive('ok', () => {
								const tx = db.transaction('queue', 'readwrite');
								for (const item of batch) tx.objectStore('queue').delete(item.id);
								tx.oncomplete = () => resolve();
								tx.onerror = () => reject(tx.error);
							})
							.receive('error', reject)
							.receive('timeout', () => reject(new Error('timeout')));
					})
				);
			}
			await Promise.all(batches);
			const ms = performance.now() - t0;
			socket.disconnect();
			db.close();
			return ms;
		},
		{ token: session.token, url }
	);
	await context.setOffline(false);
	record(`floor: raw IndexedDB, ${N.toLocaleString('en')} confirmed after online (pipelined send_batch)`, N, await drain, 'drain');
	await context.close();
}

/**
 * TanStack Query v5 as its docs describe offline mutations: a mutation per
 * action with `scope: {id: room}` (one at a time per room), paused while
 * offline, the client persisted to IndexedDB by the async storage persister
 * (mutations dehydrated too), restored after a reload and resumed at `online`.
 * Enqueue is timed until the persisted client holds every mutation.
 */
async function tanstackRuns(browser: Browser, url: string): Promise<void> {
	const session = await signIn(url, 'bench-tanstack');
	const context = await browser.newContext();
	const page = await context.newPage();
	await openPeers(page, url);
	await context.setOffline(true);
	// A client set up as an app would: defaults per mutation key (mutationFn survives a reload this way), persisted.
	const setUp = () =>
		page.evaluate(
			async ({ token, url }) => {
				const w = window as never as { __peers: any; __tq: any };
				const p = w.__peers;
				const socket = new p.Socket(url.replace('http', 'ws') + '/socket', { authToken: token });
				socket.connect();
				const channel = socket.channel('room:bench-tanstack');
				channel.join();
				const queryClient = new p.QueryClient({ defaultOptions: { mutations: { gcTime: Infinity, retry: 3 } } });
				queryClient.setMutationDefaults(['send_message'], {
					mutationFn: (vars: { client_id: string; body: string }) =>
						new Promise((resolve, reject) =>
							channel.push('send_message', vars, 30_000).receive('ok', resolve).receive('error', reject).receive('timeout', () => reject(new Error('timeout')))
						),
					scope: { id: 'room:bench-tanstack' }
				});
				p.onlineManager.setOnline(navigator.onLine);
				window.addEventListener('online', () => {
					w.__tq.onlineAt = performance.now();
					p.onlineManager.setOnline(true);
				});
				const persister = p.createAsyncStoragePersister({ storage: { getItem: p.idb.get, setItem: p.idb.set, removeItem: p.idb.del }, throttleTime: 0 });
				const persistOptions = { queryClient, persister, dehydrateOptions: { shouldDehydrateMutation: () => true } };
				const t0 = performance.now();
				await p.persistQueryClientRestore({ ...persistOptions, maxAge: Infinity });
				const restoreMs = performance.now() - t0;
				p.persistQueryClientSubscribe(persistOptions);
				w.__tq = { queryClient, socket, onlineAt: null };
				return restoreMs;
			},
			{ token: session.token, url }
		);
	await setUp();
	const addMs = await page.evaluate(async (n) => {
		const w = window as never as { __peers: any; __tq: any };
		const { queryClient } = w.__tq;
		const t0 = performance.now();
		for (let i = 0; i < n; i++) {
			new w.__peers.MutationObserver(queryClient, { mutationKey: ['send_message'] }).mutate({ client_id: `tq-${i}`, body: `action ${i}` }).catch(() => {});
		}
		// Durable: the persisted client (in IndexedDB) holds every mutation.
		for (;;) {
			const stored = (await w.__peers.idb.get('REACT_QUERY_OFFLINE_CACHE')) as string | undefined;
			if (stored && JSON.parse(stored).clientState.mutations.length >= n) break;
			await new Promise((r) => setTimeout(r, 5));
		}
		return performance.now() - t0;
	}, PEER_N);
	record(`TanStack Query: add ${PEER_N.toLocaleString('en')} offline, persisted (IndexedDB)`, PEER_N, addMs, 'enqueue');

	await page.reload();
	await kitLoaded(page);
	await loadPeers(page);
	await setUp();
	const restored = await page.evaluate(() => (window as never as { __tq: any }).__tq.queryClient.getMutationCache().getAll().length);
	if (restored !== PEER_N) throw new Error(`TanStack restored ${restored} of ${PEER_N} mutations`);
	const drain = page.evaluate(async () => {
		const w = window as never as { __tq: any };
		const { queryClient } = w.__tq;
		await new Promise((resolve) => window.addEventListener('online', resolve, { once: true }));
		await queryClient.resumePausedMutations();
		for (;;) {
			const all = queryClient.getMutationCache().getAll();
			if (all.every((m: { state: { status: string } }) => m.state.status === 'success')) break;
			if (all.some((m: { state: { status: string } }) => m.state.status === 'error')) throw new Error('a TanStack mutation failed');
			await new Promise((r) => setTimeout(r, 5));
		}
		const ms = performance.now() - w.__tq.onlineAt;
		w.__tq.socket.disconnect();
		return ms;
	});
	await context.setOffline(false);
	record(`TanStack Query: ${PEER_N.toLocaleString('en')} confirmed after online (resumed, one push each, serial per room)`, PEER_N, await drain, 'drain');
	await context.close();
}

const executablePath: string = await ensureChromium();
// One push per action for the peers (see the header); the kit is far below the default anyway.
const server = await startServer('kit', { SOCKET_RATE_PER_S: '1000000', SOCKET_RATE_BURST: '1000000' });
try {
	await kitRuns(server.url, executablePath);
} finally {
	await server.stop();
}
console.log('BENCH_JSON ' + JSON.stringify(results));
