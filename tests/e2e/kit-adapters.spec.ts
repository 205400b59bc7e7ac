/**
 * The kit's browser adapters in real Chromium, driven through the bench page
 * `/dev/kit` (which puts the factories on `window.__kit`): localforage storage
 * on IndexedDB and on localStorage (speed printed, quota and unavailable
 * errors), the tab coordinator across pages of one context (Web Locks and the
 * lease fallback), browser connectivity under `context.setOffline`, DOM events.
 */
import { expect, test, type Page } from './fixtures/test.js';
import type * as Adapters from '../../src/lib/outbox/adapters/index.js';
import type { QueueItem } from '../../src/lib/outbox/core/queue-item.js';
import type { ConnectivityState, StorageError } from '../../src/lib/outbox/ports.js';

interface Kit {
	createLocalforageStorage: typeof Adapters.createLocalforageStorage;
	createTabCoordinator: typeof Adapters.createTabCoordinator;
	createBrowserConnectivity: typeof Adapters.createBrowserConnectivity;
	dispatchOutboxEvent: typeof Adapters.dispatchOutboxEvent;
	isStorageError: (error: unknown, kind?: string) => error is StorageError;
	itemRange: typeof Adapters.itemRange;
	QUEUE_STORE: string;
}

/** What tests keep on the page between evaluations. */
type KitWindow = Window & {
	__kit: Kit;
	__tabs?: Adapters.BrowserTabCoordinator<unknown>;
	__leaderLog?: boolean[];
	__received?: unknown[];
	__states?: ConnectivityState[];
	__connectivity?: ReturnType<Kit['createBrowserConnectivity']>;
};

async function openKit(page: Page): Promise<void> {
	await page.goto('/dev/kit');
	await expect(page.getByTestId('kit-ready')).toHaveAttribute('data-ready', 'true');
}

/** Build `n` queue items (~320 bytes each as JSON) inside the page. */
const makeItemsSource = `(n, prefix, bodySize) => Array.from({ length: n }, (_, i) => ({
	id: prefix + String(i).padStart(6, '0'),
	type: 'send_message',
	topic: 'room:lobby',
	payload: { client_id: prefix + String(i).padStart(6, '0'), body: 'x'.repeat(bodySize) },
	createdAt: 1700000000000 + i,
	attempts: 0,
	status: 'queued',
	lastError: null,
	nextAttemptAt: null
}))`;

test.describe('localforage storage', () => {
	test('IndexedDB: 10,000 items in one write, read back per user, survive a reload in the documented layout', async ({ page }) => {
		await openKit(page);
		const first = await page.evaluate(async (makeItems) => {
			const kit = (window as unknown as KitWindow).__kit;
			const make = (0, eval)(makeItems) as (n: number, prefix: string, size: number) => QueueItem[];
			const storage = kit.createLocalforageStorage({ name: 'kit-idb' });
			const driver = await storage.driver();
			const items = make(10_000, 'a', 180);
			let t = performance.now();
			await storage.write('u1', { put: items });
			const putMs = performance.now() - t;
			await storage.write('u2', { put: make(3, 'b', 10) });
			t = performance.now();
			const all = await storage.getAll('u1');
			const getMs = performance.now() - t;
			await storage.write('u1', { meta: { ['cursor:room:lobby']: { cursor: 'c-42' } } });
			return {
				driver,
				putMs,
				getMs,
				count: all.length,
				ids: new Set(all.map((i) => i.id)).size,
				sample: all.find((i) => i.id === 'a000042'),
				jsonBytes: JSON.stringify(items[0]).length,
				u2: (await storage.getAll('u2')).map((i) => i.id).sort()
			};
		}, makeItemsSource);
		console.log(
			`[kit-adapters] IndexedDB write of 10,000 items (${first.jsonBytes} B JSON each) in one call: ${first.putMs.toFixed(0)} ms; getAll 10,000: ${first.getMs.toFixed(0)} ms`
		);
		expect(first.driver).toBe('indexeddb');
		expect(first.count).toBe(10_000);
		expect(first.ids).toBe(10_000);
		expect(first.sample).toMatchObject({ id: 'a000042', status: 'queued', payload: { client_id: 'a000042' } });
		expect(first.u2).toEqual(['b000000', 'b000001', 'b000002']);

		await page.reload();
		await expect(page.getByTestId('kit-ready')).toHaveAttribute('data-ready', 'true');
		const after = await page.evaluate(async () => {
			const kit = (window as unknown as KitWindow).__kit;
			// Read it raw, as a service worker would: db "kit-idb", store "queue", keys "<ns>/q/<id>".
			const db = await new Promise<IDBDatabase>((resolve, reject) => {
				const req = indexedDB.open('kit-idb');
				req.onsuccess = () => resolve(req.result);
				req.onerror = () => reject(req.error);
			});
			const range = kit.itemRange('u1');
			const raw = await new Promise<{ count: number; one: unknown; meta: unknown }>((resolve, reject) => {
				const store = db.transaction(kit.QUEUE_STORE).objectStore(kit.QUEUE_STORE);
				const count = store.count(IDBKeyRange.bound(range.lower, range.upper));
				const one = store.get('u1/q/a000042');
				const meta = store.get('u1/m/cursor:room:lobby');
				store.transaction.oncomplete = () => resolve({ count: count.result, one: one.result, meta: meta.result });
				store.transaction.onerror = () => reject(store.transaction.error);
			});
			db.close();

			const storage = kit.createLocalforageStorage({ name: 'kit-idb' });
			const t = performance.now();
			const restored = await storage.getAll('u1');
			const restoreMs = performance.now() - t;
			const ids = restored.map((i) => i.id).sort();
			await storage.write('u1', { remove: ids.slice(0, 4_000).concat('no-such-id') });
			const afterRemove = (await storage.getAll('u1')).length;
			const meta = await storage.getMeta('u1', 'cursor:room:lobby');
			await storage.write('u1', { meta: { ['cursor:room:lobby']: null } });
			const metaCleared = await storage.getMeta('u1', 'cursor:room:lobby');
			await storage.clear('u1');
			return {
				raw,
				restoreMs,
				restored: restored.length,
				afterRemove,
				meta,
				metaCleared,
				afterClear: (await storage.getAll('u1')).length,
				u2: (await storage.getAll('u2')).length
			};
		});
		console.log(`[kit-adapters] IndexedDB getAll of 10,000 after a reload (fresh storage, opens the db): ${after.restoreMs.toFixed(0)} ms`);
		expect(after.raw.count).toBe(10_000);
		expect(after.raw.one).toMatchObject({ id: 'a000042', topic: 'room:lobby' });
		expect(after.raw.meta).toEqual({ cursor: 'c-42' });
		expect(after.restored).toBe(10_000);
		expect(after.afterRemove).toBe(6_000);
		expect(after.meta).toEqual({ cursor: 'c-42' });
		expect(after.metaCleared).toBeNull();
		expect(after.afterClear).toBe(0);
		expect(after.u2).toBe(3);
	});

	test('IndexedDB: a large remove deletes exactly the wanted items, by ranges, around items that stay', async ({ page }) => {
		await openKit(page);
		const result = await page.evaluate(async (makeItems) => {
			const kit = (window as unknown as KitWindow).__kit;
			const make = (0, eval)(makeItems) as (n: number, prefix: string, size: number) => QueueItem[];
			const storage = kit.createLocalforageStorage({ name: 'kit-idb-ranges' });
			await storage.write('u1', { put: make(300, 'a', 20) });
			await storage.write('u2', { put: make(5, 'a', 20) });
			await storage.write('u1', { meta: { ['cursor']: 'c-7' } });
			const id = (i: number) => 'a' + String(i).padStart(6, '0');
			// Remove 0–99 and 150–299 except every seventh, plus ids never stored: 100–149 and the sevenths stay.
			const removed = [...Array.from({ length: 100 }, (_, i) => id(i)), ...Array.from({ length: 150 }, (_, i) => 150 + i).filter((i) => i % 7 !== 0).map(id), 'a999999', 'zz'];
			await storage.write('u1', { remove: removed });
			return {
				left: (await storage.getAll('u1')).map((i) => i.id).sort(),
				u2: (await storage.getAll('u2')).length,
				meta: await storage.getMeta('u1', 'cursor')
			};
		}, makeItemsSource);
		const id = (i: number) => 'a' + String(i).padStart(6, '0');
		const expected = [...Array.from({ length: 50 }, (_, i) => 100 + i), ...Array.from({ length: 150 }, (_, i) => 150 + i).filter((i) => i % 7 === 0)].map(id);
		expect(result.left).toEqual(expected);
		expect(result.u2).toBe(5);
		expect(result.meta).toBe('c-7');
	});

	test('localStorage driver: same contract, keys under "<name>/queue/", plain JSON values', async ({ page }) => {
		await openKit(page);
		const result = await page.evaluate(async (makeItems) => {
			const kit = (window as unknown as KitWindow).__kit;
			const make = (0, eval)(makeItems) as (n: number, prefix: string, size: number) => QueueItem[];
			const storage = kit.createLocalforageStorage({ name: 'kit-ls', driver: 'localstorage' });
			const items = make(10_000, 'a', 180);
			let t = performance.now();
			await storage.write('u1', { put: items });
			const putMs = performance.now() - t;
			await storage.write('u2', { put: make(2, 'b', 10) });
			t = performance.now();
			const all = await storage.getAll('u1');
			const getMs = performance.now() - t;
			const rawValue = localStorage.getItem('kit-ls/queue/u1/q/a000007');
			await storage.write('u1', { remove: ['a000000', 'a000001'] });
			await storage.write('u1', { meta: { ['cursor']: 'c-1' } });
			const meta = await storage.getMeta('u1', 'cursor');
			const left = (await storage.getAll('u1')).length;
			await storage.clear('u1');
			return {
				driver: await storage.driver(),
				putMs,
				getMs,
				count: all.length,
				rawValue: rawValue === null ? null : JSON.parse(rawValue),
				left,
				meta,
				afterClear: (await storage.getAll('u1')).length,
				metaAfterClear: await storage.getMeta('u1', 'cursor'),
				u2: (await storage.getAll('u2')).length
			};
		}, makeItemsSource);
		console.log(
			`[kit-adapters] localStorage write of 10,000 items: ${result.putMs.toFixed(0)} ms; getAll 10,000: ${result.getMs.toFixed(0)} ms`
		);
		expect(result.driver).toBe('localstorage');
		expect(result.count).toBe(10_000);
		expect(result.rawValue).toMatchObject({ id: 'a000007', status: 'queued' });
		expect(result.left).toBe(9_998);
		expect(result.meta).toBe('c-1');
		expect(result.afterClear).toBe(0);
		expect(result.metaAfterClear).toBeNull();
		expect(result.u2).toBe(2);
	});

	test('a full localStorage rejects with StorageError quota and keeps nothing of the failed batch', async ({ page }) => {
		await openKit(page);
		const result = await page.evaluate(async (makeItems) => {
			const kit = (window as unknown as KitWindow).__kit;
			const make = (0, eval)(makeItems) as (n: number, prefix: string, size: number) => QueueItem[];
			const storage = kit.createLocalforageStorage({ name: 'kit-quota-ls', driver: 'localstorage' });
			await storage.write('u1', { put: make(3, 'keep', 10) });
			// ~6 M characters: more than Chromium's ~5.2 M per origin.
			const error = await storage.write('u1', { put: make(30, 'big', 200_000) }).then(
				() => null,
				(e: unknown) => e
			);
			const left = (await storage.getAll('u1')).map((i) => i.id).sort();
			return {
				isQuota: kit.isStorageError(error, 'quota'),
				name: (error as Error | null)?.name,
				causeName: ((error as { cause?: Error } | null)?.cause as Error | undefined)?.name,
				left
			};
		}, makeItemsSource);
		expect(result).toEqual({
			isQuota: true,
			name: 'StorageError',
			causeName: 'QuotaExceededError',
			left: ['keep000000', 'keep000001', 'keep000002']
		});
	});

	test('an IndexedDB transaction aborted for quota rejects with StorageError quota and writes nothing', async ({ page }) => {
		await openKit(page);
		const cdp = await page.context().newCDPSession(page);
		await cdp.send('Storage.overrideQuotaForOrigin', { origin: new URL(page.url()).origin, quotaSize: 2 * 1024 * 1024 });
		const result = await page.evaluate(async (makeItems) => {
			const kit = (window as unknown as KitWindow).__kit;
			const make = (0, eval)(makeItems) as (n: number, prefix: string, size: number) => QueueItem[];
			const storage = kit.createLocalforageStorage({ name: 'kit-quota-idb', driver: 'indexeddb' });
			await storage.write('u1', { put: make(3, 'keep', 10) });
			const error = await storage.write('u1', { put: make(400, 'big', 20_000) }).then(
				() => null,
				(e: unknown) => e
			);
			const left = (await storage.getAll('u1')).map((i) => i.id).sort();
			return { isQuota: kit.isStorageError(error, 'quota'), message: (error as Error | null)?.message, left };
		}, makeItemsSource);
		await cdp.send('Storage.overrideQuotaForOrigin', { origin: new URL(page.url()).origin });
		expect(result.isQuota, result.message).toBe(true);
		expect(result.left).toEqual(['keep000000', 'keep000001', 'keep000002']);
	});

	test('with neither IndexedDB nor localStorage, every call rejects with StorageError unavailable', async ({ page }) => {
		await page.addInitScript(() => {
			Object.defineProperty(window, 'indexedDB', { configurable: true, get: () => undefined });
			Object.defineProperty(window, 'localStorage', {
				configurable: true,
				get: () => {
					throw new DOMException('storage is blocked', 'SecurityError');
				}
			});
		});
		await openKit(page);
		const result = await page.evaluate(async () => {
			const kit = (window as unknown as KitWindow).__kit;
			const storage = kit.createLocalforageStorage({ name: 'kit-none' });
			const kinds: unknown[] = [];
			for (const call of [() => storage.getAll('u1'), () => storage.write('u1', { put: [] }), () => storage.write('u1', { meta: { ['k']: 1 } }), () => storage.driver()]) {
				kinds.push(await call().then(() => 'resolved', (e: unknown) => (kit.isStorageError(e) ? e.kind : String(e))));
			}
			return kinds;
		});
		// a write of nothing has nothing to write, so it needs no storage.
		expect(result).toEqual(['unavailable', 'resolved', 'unavailable', 'unavailable']);
	});
});

test.describe('tab coordinator', () => {
	async function startTabs(page: Page, options: Adapters.TabCoordinatorOptions): Promise<void> {
		await openKit(page);
		await page.evaluate((opts) => {
			const w = window as unknown as KitWindow;
			w.__leaderLog = [];
			w.__received = [];
			w.__tabs = w.__kit.createTabCoordinator(opts);
			w.__tabs.subscribe((leading) => w.__leaderLog!.push(leading));
			w.__tabs.onBroadcast((message) => w.__received!.push(message));
		}, options);
	}
	const isLeader = (page: Page) => page.evaluate(() => (window as unknown as KitWindow).__tabs!.isLeader());
	const received = (page: Page) => page.evaluate(() => (window as unknown as KitWindow).__received);
	const broadcast = (page: Page, message: unknown) =>
		page.evaluate((m) => (window as unknown as KitWindow).__tabs!.broadcast(m), message);
	const mechanisms = (page: Page) => page.evaluate(() => (window as unknown as KitWindow).__tabs!.mechanisms);

	test('Web Locks: one leader, BroadcastChannel messages both ways, the leader closing hands over, resign too', async ({ context }) => {
		const a = await context.newPage();
		const b = await context.newPage();
		const c = await context.newPage();
		const options = { name: 'outbox:tabs-locks' };
		await startTabs(a, options);
		await expect.poll(() => isLeader(a)).toBe(true);
		await startTabs(b, options);
		await startTabs(c, options);
		expect(await mechanisms(b)).toEqual({ election: 'web-locks', messaging: 'broadcast-channel' });
		await b.waitForTimeout(200);
		expect(await isLeader(b)).toBe(false);
		expect(await isLeader(c)).toBe(false);

		await broadcast(a, { kind: 'flush-requested', namespace: 'u1' });
		await broadcast(b, { kind: 'queue-changed', namespace: 'u1', items: [], removedIds: ['x'] });
		await expect.poll(() => received(b)).toEqual([{ kind: 'flush-requested', namespace: 'u1' }]);
		await expect.poll(() => received(a)).toEqual([{ kind: 'queue-changed', namespace: 'u1', items: [], removedIds: ['x'] }]);
		expect(await received(c)).toHaveLength(2);

		const closedAt = Date.now();
		await a.close();
		await expect.poll(async () => (await isLeader(b)) !== (await isLeader(c)), { timeout: 5000 }).toBe(true);
		console.log(`[kit-adapters] Web Locks handover after the leader page closed: ${Date.now() - closedAt} ms`);
		const [next, other] = (await isLeader(b)) ? [b, c] : [c, b];
		await next.evaluate(() => (window as unknown as KitWindow).__tabs!.resign());
		expect(await isLeader(next)).toBe(false);
		await expect.poll(() => isLeader(other)).toBe(true);
		expect(await next.evaluate(() => (window as unknown as KitWindow).__leaderLog)).toEqual([true, false]);
	});

	test('lease fallback with storage events: handover on close, and a frozen leader steps down once its lease was taken', async ({ context }) => {
		const a = await context.newPage();
		const b = await context.newPage();
		const options = { name: 'outbox:tabs-lease', leaseMs: 600, election: 'lease', messaging: 'storage' } as const;
		await startTabs(a, options);
		await expect.poll(() => isLeader(a)).toBe(true);
		await startTabs(b, options);
		expect(await mechanisms(b)).toEqual({ election: 'lease', messaging: 'storage' });
		await b.waitForTimeout(700); // more than a lease: the leader's heartbeat keeps it
		expect(await isLeader(b)).toBe(false);

		await broadcast(a, { kind: 'flush-requested', namespace: 'u1' });
		await broadcast(a, { kind: 'flush-requested', namespace: 'u1' });
		await expect.poll(() => received(b)).toHaveLength(2);
		expect(await received(a)).toEqual([]);

		await a.close();
		await expect.poll(() => isLeader(b), { timeout: 3000 }).toBe(true);

		const c = await context.newPage();
		await startTabs(c, options);
		// Freeze the leader: the debugger stops its script (and so its heartbeat) until resumed.
		const cdp = await context.newCDPSession(b);
		await cdp.send('Debugger.enable');
		await cdp.send('Debugger.pause');
		await expect.poll(() => isLeader(c), { timeout: 5000 }).toBe(true);
		await cdp.send('Debugger.resume');
		await expect.poll(() => isLeader(b), { timeout: 3000 }).toBe(false);
		await c.waitForTimeout(700);
		expect(await isLeader(c)).toBe(true);
		expect(await b.evaluate(() => (window as unknown as KitWindow).__leaderLog)).toEqual([true, false]);
	});
});

test('connectivity follows context.setOffline and visibilitychange', async ({ page, context }) => {
	await openKit(page);
	await page.evaluate(() => {
		const w = window as unknown as KitWindow;
		w.__states = [];
		w.__connectivity = w.__kit.createBrowserConnectivity();
		w.__connectivity.subscribe((state) => w.__states!.push(state));
	});
	const states = () => page.evaluate(() => (window as unknown as KitWindow).__states);
	const current = () => page.evaluate(() => (window as unknown as KitWindow).__connectivity!.current());
	expect(await current()).toEqual({ online: true, visible: true });

	await context.setOffline(true);
	await expect.poll(states).toEqual([{ online: false, visible: true }]);
	expect(await current()).toEqual({ online: false, visible: true });
	await context.setOffline(false);
	await expect.poll(states).toEqual([
		{ online: false, visible: true },
		{ online: true, visible: true }
	]);

	await page.evaluate(() => {
		Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
		document.dispatchEvent(new Event('visibilitychange'));
	});
	expect((await states())?.at(-1)).toEqual({ online: true, visible: false });
	expect(await current()).toEqual({ online: true, visible: false });
});

test('dispatchOutboxEvent dispatches a CustomEvent named outbox:<name> on window', async ({ page }) => {
	await openKit(page);
	const detail = await page.evaluate(() => {
		const kit = (window as unknown as KitWindow).__kit;
		let seen: unknown = null;
		window.addEventListener('outbox:queue-processing-start', (event) => (seen = (event as CustomEvent).detail));
		const dispatched = kit.dispatchOutboxEvent('queue-processing-start', { startedAt: 5, queued: 2 });
		return { dispatched, seen };
	});
	expect(detail).toEqual({ dispatched: true, seen: { startedAt: 5, queued: 2 } });
});
