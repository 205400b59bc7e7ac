/**
 * The service worker (src/service-worker.ts): the app shell offline, and
 * Background Sync flushing the queue while no tab is open (issue 4's
 * scenario 11), honouring the leader tab's Web Lock.
 *
 * Each test runs its own app server (tests/e2e/fixtures/app-server.ts) so it
 * can be stopped, and its own browser context (its own worker and storage).
 * Actions are queued by the kit itself (`createBrowserOutbox` on the
 * /dev/sw bench page), so IndexedDB holds exactly what the app would write.
 */
import { readFileSync } from 'node:fs';
import { expect, test, type BrowserContext, type CDPSession, type Page } from './fixtures/test.js';
import { createAppServer, type AppServer } from './fixtures/app-server';
import { createPeer, type Peer } from './fixtures/peer';

test.describe.configure({ mode: 'serial' });

let server: AppServer;
const peers: Peer[] = [];

test.beforeAll(async () => {
	server = await createAppServer();
});

test.afterAll(async () => {
	for (const peer of peers.splice(0)) peer.close();
	await server?.dispose();
});

async function peer(name: string): Promise<Peer> {
	const p = await createPeer(server.url, name);
	peers.push(p);
	return p;
}

/** Open the bench page and wait until the worker controls it. */
async function openBench(context: BrowserContext): Promise<Page> {
	const page = await context.newPage();
	await page.goto(server.url + '/dev/sw');
	await expect(page.getByTestId('sw-ready')).toHaveAttribute('data-ready', 'true');
	await page.evaluate(() => navigator.serviceWorker.ready);
	await expect(page.getByTestId('sw-ready')).toHaveAttribute('data-controlled', 'true');
	return page;
}

/** A CDP session on a page that is not an app tab, with the worker's registration id. */
async function workerControl(context: BrowserContext): Promise<{ session: CDPSession; registrationId: () => Promise<string>; blank: Page }> {
	const blank = await context.newPage(); // about:blank: not on the app's origin, holds no lock
	const session = await context.newCDPSession(blank);
	const registrations = new Map<string, string>();
	session.on('ServiceWorker.workerRegistrationUpdated', ({ registrations: list }) => {
		for (const r of list) if (!r.isDeleted) registrations.set(r.scopeURL, r.registrationId);
	});
	await session.send('ServiceWorker.enable');
	return {
		session,
		blank,
		async registrationId() {
			await expect.poll(() => registrations.get(server.url + '/'), { timeout: 10_000 }).toBeTruthy();
			return registrations.get(server.url + '/') as string;
		}
	};
}

test('the worker precaches the build and a reload while offline still renders the app', async ({ browser }) => {
	const context = await browser.newContext();
	const page = await openBench(context);
	const cached = await page.evaluate(async () => {
		const names = await caches.keys();
		const out: Record<string, string[]> = {};
		for (const name of names) out[name] = (await (await caches.open(name)).keys()).map((r) => new URL(r.url).pathname);
		return out;
	});
	const assetCache = Object.keys(cached).find((name) => name.startsWith('outbox-assets-'));
	const pageCache = Object.keys(cached).find((name) => name.startsWith('outbox-pages-'));
	expect(assetCache).toBeTruthy();
	expect(cached[assetCache!]!.some((path) => path.startsWith('/_app/immutable/entry/'))).toBe(true);
	expect(cached[assetCache!]).toContain('/favicon.svg');
	expect(cached[pageCache!]).toContain('/__outbox-shell');
	expect(Object.values(cached).flat().some((path) => path.startsWith('/api/'))).toBe(false);

	// The browser offline: the page's own requests fail, the shell still loads.
	await context.setOffline(true);
	const offline = await page.reload();
	expect(offline?.fromServiceWorker()).toBe(true);
	await expect(page.getByTestId('sw-ready')).toHaveAttribute('data-ready', 'true');
	expect(await page.evaluate(() => fetch('/api/session').then(() => 'answered', () => 'failed'))).toBe('failed');
	// Another route that was never visited: the one shell renders it too.
	await page.goto(server.url + '/dev/components').catch(() => undefined);
	await expect(page.locator('h1').first()).toBeVisible();
	expect(new URL(page.url()).pathname).toBe('/dev/components');
	await context.setOffline(false);

	// The server gone (the network answers nothing): same.
	await server.stop();
	try {
		const down = await page.goto(server.url + '/dev/sw');
		expect(down?.fromServiceWorker()).toBe(true);
		await expect(page.getByTestId('sw-ready')).toHaveAttribute('data-ready', 'true');
		await page.screenshot({ path: 'test-results/service-worker-offline-shell.png' });
	} finally {
		await server.start();
	}
	await context.close();
});

/**
 * Strings that survive minification in every bundle holding the bench's peer
 * libraries (bench/peers/entry.ts): the bench builds and injects those itself,
 * so users' browsers never download them.
 */
const BENCH_ONLY_MARKERS = [
	{ file: 'node_modules/idb-keyval/dist/index.js', marker: 'keyval-store' },
	{ file: 'node_modules/@tanstack/query-core/build/modern/utils.js', marker: 'Missing queryFn' },
	{ file: 'node_modules/@tanstack/query-core/build/modern/retryer.js', marker: 'CancelledError' },
	{ file: 'node_modules/@tanstack/query-async-storage-persister/build/modern/index.js', marker: 'REACT_QUERY_OFFLINE_CACHE' }
];

test('the worker precaches no bench-only code (no TanStack Query, no idb-keyval)', async ({ browser }) => {
	// Each marker is really in its library, so a chunk bundling it would hold it.
	for (const { file, marker } of BENCH_ONLY_MARKERS) expect(readFileSync(file, 'utf8'), file).toContain(marker);
	const context = await browser.newContext();
	const page = await openBench(context);
	const found = await page.evaluate(async (markers) => {
		const name = (await caches.keys()).find((key) => key.startsWith('outbox-assets-'));
		if (!name) return null;
		const cache = await caches.open(name);
		const scripts: string[] = [];
		const hits: string[] = [];
		for (const request of await cache.keys()) {
			const path = new URL(request.url).pathname;
			if (!path.endsWith('.js')) continue;
			scripts.push(path);
			const text = await (await cache.match(request))!.text();
			for (const marker of markers) if (text.includes(marker)) hits.push(`${path}: ${marker}`);
		}
		return { scripts, hits };
	}, BENCH_ONLY_MARKERS.map((m) => m.marker));
	expect(found).not.toBeNull();
	// The app's own code is there (the check looked at something)...
	expect(found!.scripts.length).toBeGreaterThan(5);
	// ...and none of the bench's.
	expect(found!.hits).toEqual([]);
	await context.close();
});

interface BenchWindow {
	__sw: {
		signIn(name: string): Promise<{ token: string; user: { id: string; name: string } }>;
		createBrowserChat(options: unknown): { outbox: any; chat: any };
		requestBackgroundFlush(): Promise<boolean>;
		lockName(userId: string): string;
		lockHeld(name: string): Promise<boolean>;
		writeSignedInUser(userId: string | null): Promise<void>;
		readSignedInUser(): Promise<string | null>;
		reports: Array<{ ok: boolean; report: { status: string; sent: string[]; failed: string[]; retry: string[]; requests: number } | null }>;
	};
	__outbox: any;
	__chat: any;
}

/** Sign in on the bench page (the session cookie lands in the context) and start the kit's browser outbox. */
async function startOutbox(page: Page, name: string, options: { autoConnect?: boolean } = {}) {
	const started = page.evaluate(
		async ({ name, autoConnect }) => {
			const w = window as unknown as BenchWindow;
			const { token, user } = await w.__sw.signIn(name);
			const { outbox, chat } = w.__sw.createBrowserChat({ token: () => token, user, autoConnect });
			await outbox.ready;
			w.__outbox = outbox;
			w.__chat = chat;
			// As the app's layout does (watchQueueForBackgroundSync): tell the worker who is signed in.
			await w.__sw.writeSignedInUser(user.id);
			return user;
		},
		{ name, autoConnect: options.autoConnect ?? true }
	);
	const user = await started;
	await expect.poll(() => page.evaluate(() => (window as unknown as BenchWindow).__sw.readSignedInUser())).toBe(user.id);
	return user;
}

/** The user's queue as IndexedDB holds it (read by the kit's storage adapter). */
async function storedItems(page: Page, userId: string): Promise<Array<{ id: string; status: string; payload: { body?: string }; lastError: { reason: string } | null; attempts: number }>> {
	return page.evaluate(async (userId) => {
		const w = window as unknown as BenchWindow & { __sw: { createLocalforageStorage(): { getAll(ns: string): Promise<unknown[]> } } };
		return (await w.__sw.createLocalforageStorage().getAll(userId)) as never;
	}, userId);
}

async function dispatchFlush(control: { session: CDPSession; registrationId: () => Promise<string> }) {
	await control.session.send('ServiceWorker.dispatchSyncEvent', {
		origin: server.url,
		registrationId: await control.registrationId(),
		tag: 'outbox-flush',
		lastChance: false
	});
}

test('scenario 11: pending items, every tab closed, network back: the worker delivers them once, in order, and the next visit shows them sent', async ({ browser }) => {
	const room = 'sw-eleven';
	const context = await browser.newContext();
	await context.grantPermissions(['background-sync'], { origin: server.url });
	const control = await workerControl(context);
	const page = await openBench(context);
	const user = await startOutbox(page, 'eleven');
	const other = await peer('eleven-peer');
	await other.send(room, 'before we went offline');

	await context.setOffline(true);
	const bodies = ['first while offline', 'second while offline', 'third while offline'];
	const ids = await page.evaluate(
		async ({ room, bodies }) => {
			const w = window as unknown as BenchWindow;
			const ids: string[] = [];
			for (const body of bodies) ids.push((await w.__outbox.add('send_message', `room:${room}`, { body })).id);
			return ids;
		},
		{ room, bodies }
	);
	const pending = await storedItems(page, user.id);
	expect(pending.map((item) => [item.id, item.status])).toEqual(ids.map((id) => [id, 'queued']));

	// Every app tab closed (the lock goes with the last one), then the network back.
	await page.close();
	await context.setOffline(false);
	await expect.poll(() => control.blank.evaluate(() => navigator.onLine)).toBe(true);
	expect((await other.messages(room)).map((m) => m.body)).toEqual(['before we went offline']);

	await dispatchFlush(control);
	await expect
		.poll(async () => (await other.messages(room)).map((m) => m.body), { timeout: 15_000 })
		.toEqual(['before we went offline', ...bodies]);
	const delivered = await other.messages(room);
	expect(delivered.slice(1).map((m) => m.client_id)).toEqual(ids);
	expect(delivered.slice(1).map((m) => m.author.id)).toEqual([user.id, user.id, user.id]);
	expect(delivered.map((m) => m.seq)).toEqual([1, 2, 3, 4]);

	// A second sync (the browser retrying, say) finds nothing to send: still once each.
	await dispatchFlush(control);
	await new Promise((r) => setTimeout(r, 500));
	expect((await other.messages(room)).map((m) => m.body)).toEqual(['before we went offline', ...bodies]);

	// The next visit: the queue is empty and the room shows them sent.
	const next = await openBench(context);
	expect(await storedItems(next, user.id)).toEqual([]);
	await startOutbox(next, 'eleven');
	const view = () =>
		next.evaluate((room) => {
			const w = window as unknown as BenchWindow;
			return (w.__chat.room(`room:${room}`).messages as Array<{ body: string; status: string; clientId: string }>).map((m) => [m.body, m.status]);
		}, room);
	await expect.poll(view, { timeout: 10_000 }).toEqual([['before we went offline', 'sent'], ...bodies.map((b) => [b, 'sent'])]);
	await next.screenshot({ path: 'test-results/service-worker-scenario-11.png' });
	await context.close();
});

test('while an app tab holds the lock, a background sync sends nothing; the tab sends each action once', async ({ browser }) => {
	const room = 'sw-lock';
	const context = await browser.newContext();
	const control = await workerControl(context);
	const page = await openBench(context);
	// The tab is the leader (holds outbox:<id>) but not connected yet: its actions wait in IndexedDB.
	const user = await startOutbox(page, 'locky', { autoConnect: false });
	expect(await page.evaluate((name) => (window as unknown as BenchWindow).__sw.lockHeld(name), `outbox:${user.id}`)).toBe(true);
	const bodies = ['a', 'b'];
	await page.evaluate(
		async ({ room, bodies }) => {
			const w = window as unknown as BenchWindow;
			for (const body of bodies) await w.__outbox.add('send_message', `room:${room}`, { body });
		},
		{ room, bodies }
	);
	const other = await peer('locky-peer');

	await dispatchFlush(control);
	// The worker reports that a tab holds the lock, and fails the sync so the browser asks again later.
	await expect
		.poll(() => page.evaluate(() => (window as unknown as BenchWindow).__sw.reports.map((r) => [r.ok, r.report?.status, r.report?.requests])))
		.toEqual([[false, 'tab-open', 0]]);
	expect(await other.messages(room)).toEqual([]);
	expect((await storedItems(page, user.id)).map((item) => item.status)).toEqual(['queued', 'queued']);

	// The tab's engine sends them.
	await page.evaluate(() => (window as unknown as BenchWindow).__outbox.deps.transport.connect());
	await expect.poll(async () => (await other.messages(room)).map((m) => m.body), { timeout: 15_000 }).toEqual(bodies);
	await expect.poll(() => storedItems(page, user.id)).toEqual([]);
	// A sync now finds the queue empty: done, nothing sent twice.
	await dispatchFlush(control);
	await expect
		.poll(() => page.evaluate(() => (window as unknown as BenchWindow).__sw.reports.map((r) => [r.ok, r.report?.status, r.report?.requests])))
		.toEqual([
			[false, 'tab-open', 0],
			[true, 'tab-open', 0]
		]);
	expect((await other.messages(room)).map((m) => m.body)).toEqual(bodies);
	await context.close();
});

test('a background flush settles results as the kit does: a refused action fails with its reason and its lane goes on', async ({ browser }) => {
	const room = 'sw-verdicts';
	const context = await browser.newContext();
	const control = await workerControl(context);
	const page = await openBench(context);
	const user = await startOutbox(page, 'verdicts', { autoConnect: false });
	const tooLong = 'x'.repeat(4001);
	const ids = await page.evaluate(
		async ({ room, bodies }) => {
			const w = window as unknown as BenchWindow & { __sw: { createQueueItem(i: unknown): unknown; nextId(): string; createLocalforageStorage(): { write(ns: string, change: { put: unknown[] }): Promise<void> } } };
			// Written straight to storage (as a tab would have queued them): the kit's `add` refuses an over-long body up front.
			const items = bodies.map((body) =>
				w.__sw.createQueueItem({ id: w.__sw.nextId(), type: 'send_message', topic: `room:${room}`, payload: { body }, createdAt: Date.now() })
			) as Array<{ id: string }>;
			await w.__sw.createLocalforageStorage().write(w.__outbox.user.id, { put: items });
			return items.map((item) => item.id);
		},
		{ room, bodies: ['before', tooLong, 'after'] }
	);
	await page.close();
	// A bench page without an outbox holds no lock; it hears the worker's report.
	const watcher = await openBench(context);

	await dispatchFlush(control);
	const other = await peer('verdicts-peer');
	await expect.poll(async () => (await other.messages(room)).map((m) => m.body), { timeout: 15_000 }).toEqual(['before', 'after']);
	await expect
		.poll(() => watcher.evaluate(() => (window as unknown as BenchWindow).__sw.reports.map((r) => [r.ok, r.report?.status, r.report?.sent, r.report?.failed, r.report?.requests])))
		.toEqual([[true, 'flushed', [ids[0], ids[2]], [ids[1]], 1]]);

	const next = await openBench(context);
	const left = await storedItems(next, user.id);
	expect(left.map((item) => [item.id, item.status, item.lastError?.reason, item.payload.body?.length])).toEqual([[ids[1], 'failed', 'invalid', 4001]]);
	await context.close();
});

test('the page registers the outbox-flush sync while offline and the browser fires it itself once the network is back', async ({ browser }) => {
	const room = 'sw-real-sync';
	const context = await browser.newContext();
	await context.grantPermissions(['background-sync'], { origin: server.url });
	const page = await openBench(context);
	const user = await startOutbox(page, 'realsync');
	await context.setOffline(true);
	const ids = await page.evaluate(async (room) => {
		const w = window as unknown as BenchWindow & { __sw: { watchQueueForBackgroundSync(o: unknown): () => void } };
		// As the app layout does: a sync is registered while actions wait and the tab cannot send.
		w.__sw.watchQueueForBackgroundSync(w.__outbox);
		const ids: string[] = [];
		for (const body of ['one', 'two']) ids.push((await w.__outbox.add('send_message', `room:${room}`, { body })).id);
		return ids;
	}, room);
	await expect.poll(() => page.evaluate(async () => ((await navigator.serviceWorker.ready) as any).sync.getTags())).toEqual(['outbox-flush']);
	expect(await page.evaluate(() => (window as unknown as BenchWindow).__sw.requestBackgroundFlush())).toBe(true);
	await page.close();

	await context.setOffline(false);
	const other = await peer('realsync-peer');
	await expect.poll(async () => (await other.messages(room)).map((m) => [m.body, m.client_id]), { timeout: 20_000 }).toEqual([
		['one', ids[0]],
		['two', ids[1]]
	]);
	const next = await openBench(context);
	expect(await storedItems(next, user.id)).toEqual([]);
	await context.close();
});

test('signed out while offline (the cookie still valid): the worker sends nothing; back in, it does', async ({ browser }) => {
	const room = 'sw-signed-out';
	const context = await browser.newContext();
	const control = await workerControl(context);
	const page = await openBench(context);
	const user = await startOutbox(page, 'leaver');
	await context.setOffline(true);
	const ids = await page.evaluate(async (room) => {
		const w = window as unknown as BenchWindow & { __sw: { watchQueueForBackgroundSync(o: unknown, r?: () => Promise<boolean>): () => void } };
		w.__sw.watchQueueForBackgroundSync(w.__outbox, async () => true);
		const ids: string[] = [];
		for (const body of ['queued before sign-out 1', 'queued before sign-out 2']) ids.push((await w.__outbox.add('send_message', `room:${room}`, { body })).id);
		// Sign out offline: the revoking DELETE /api/session cannot go, the cookie stays.
		await w.__outbox.setUser(null);
		return ids;
	}, room);
	await expect.poll(() => page.evaluate(() => (window as unknown as BenchWindow).__sw.readSignedInUser())).toBeNull();
	await page.close();
	await context.setOffline(false);
	const watcher = await openBench(context); // holds no lock; hears the worker's reports
	expect(await watcher.evaluate(() => fetch('/api/session').then((r) => r.status))).toBe(200);

	await dispatchFlush(control);
	await expect
		.poll(() => watcher.evaluate(() => (window as unknown as BenchWindow).__sw.reports.map((r) => [r.ok, r.report?.status, r.report?.requests])))
		.toEqual([[true, 'signed-out', 0]]);
	const other = await peer('leaver-peer');
	expect(await other.messages(room)).toEqual([]);
	expect((await storedItems(watcher, user.id)).map((item) => item.id)).toEqual(ids);

	// The same user signs in again: now the worker may flush their queue.
	await watcher.evaluate((id) => (window as unknown as BenchWindow).__sw.writeSignedInUser(id), user.id);
	await dispatchFlush(control);
	await expect.poll(async () => (await other.messages(room)).map((m) => m.client_id), { timeout: 15_000 }).toEqual(ids);
	await context.close();
});

// ---- Through the chat app itself (DESIGN.md "App contract" test ids).

interface UiRow {
	status: string | null;
	clientId: string | null;
	seq: string | null;
	body: string;
}

async function uiRows(page: Page): Promise<UiRow[]> {
	return page.getByTestId('message').evaluateAll((elements) =>
		elements.map((el) => ({
			status: el.getAttribute('data-status'),
			clientId: el.getAttribute('data-client-id'),
			seq: el.getAttribute('data-seq'),
			body: (el.querySelector('[data-testid="message-body"]')?.textContent ?? '').trim()
		}))
	);
}

async function signInThroughApp(page: Page, name: string) {
	await page.goto(server.url + '/');
	await page.getByTestId('signin-name').fill(name);
	await page.getByTestId('signin-password').fill(`pw-${name}`);
	await page.getByTestId('signin-submit').click();
	await page.waitForURL(/\/rooms\/lobby\/?$/);
	await expect(page.getByTestId('composer-input')).toBeVisible();
	await page.evaluate(() => navigator.serviceWorker.ready);
}

async function sendThroughApp(page: Page, body: string) {
	const before = await page.getByTestId('message').count();
	await page.getByTestId('composer-input').fill(body);
	await page.getByTestId('send-button').click();
	await expect(page.getByTestId('message')).toHaveCount(before + 1);
}

test('the app: a reload of a room while offline renders the app shell with the composer', async ({ browser }) => {
	const context = await browser.newContext();
	const page = await context.newPage();
	await signInThroughApp(page, 'shell-user');
	await expect(page.getByTestId('connection-banner')).toHaveCount(0, { timeout: 10_000 });

	await context.setOffline(true);
	const response = await page.reload();
	expect(response?.fromServiceWorker()).toBe(true);
	expect(new URL(page.url()).pathname).toBe('/rooms/lobby');
	await expect(page.getByTestId('composer-input')).toBeVisible();
	await expect(page.getByTestId('connection-banner')).toContainText(/offline/i);
	await page.screenshot({ path: 'test-results/service-worker-app-offline-reload.png' });
	await context.close();
});

test('the app, scenario 11: messages sent offline, the tab closed, the network back: the worker delivers them and the next visit shows them sent', async ({ browser }) => {
	const room = 'sw-app-eleven';
	const context = await browser.newContext();
	const control = await workerControl(context);
	const page = await context.newPage();
	await signInThroughApp(page, 'app-eleven');
	await page.goto(server.url + `/rooms/${room}`);
	await expect(page.getByTestId('composer-input')).toBeVisible();
	await expect(page.getByTestId('connection-banner')).toHaveCount(0, { timeout: 10_000 });

	await context.setOffline(true);
	await expect(page.getByTestId('connection-banner')).toContainText(/offline/i);
	const bodies = ['app offline one', 'app offline two', 'app offline three'];
	for (const body of bodies) await sendThroughApp(page, body);
	const pending = await uiRows(page);
	expect(pending.map((r) => [r.body, r.status])).toEqual(bodies.map((b) => [b, 'pending']));
	await expect(page.getByTestId('pending-badge')).toContainText('3');
	const ids = pending.map((r) => r.clientId);
	await page.close();

	const other = await peer('app-eleven-peer');
	await context.setOffline(false);
	await expect.poll(() => control.blank.evaluate(() => navigator.onLine)).toBe(true);
	// The worker delivers (the app also registered a real Background Sync while
	// offline; whichever fires first sends, the lock keeps it to one sender).
	await dispatchFlush(control);
	await expect.poll(async () => (await other.messages(room)).map((m) => [m.body, m.client_id]), { timeout: 15_000 }).toEqual(bodies.map((b, i) => [b, ids[i]]));
	expect((await other.messages(room)).map((m) => m.seq)).toEqual([1, 2, 3]);
	// Someone else writes meanwhile: the snapshot the worker updated does not hold it.
	await other.send(room, 'from the peer');
	const sent = bodies.map((body, i) => ({ body, status: 'sent', clientId: ids[i], seq: String(i + 1) }));

	// The next visit, still offline: the worker put what it delivered into the
	// room's stored snapshot, so the messages show sent, not gone.
	await context.setOffline(true);
	const next = await context.newPage();
	await next.goto(server.url + `/rooms/${room}`);
	await expect(next.getByTestId('connection-banner')).toContainText(/offline/i);
	await expect.poll(() => uiRows(next), { timeout: 10_000 }).toEqual(sent);
	await expect(next.getByTestId('pending-badge')).toHaveCount(0);
	await next.screenshot({ path: 'test-results/service-worker-app-scenario-11.png' });

	// Online: the sync from the snapshot's cursor brings the rest, nothing twice.
	await context.setOffline(false);
	await expect
		.poll(() => uiRows(next), { timeout: 10_000 })
		.toEqual([...sent, { body: 'from the peer', status: 'sent', clientId: expect.any(String), seq: '4' }]);
	await context.close();
});

test('the app: a message with a file sent offline, the tab closed, the network back: the worker uploads the file and delivers the message naming it', async ({ browser }) => {
	const room = 'sw-app-files';
	const context = await browser.newContext();
	const control = await workerControl(context);
	const page = await context.newPage();
	await signInThroughApp(page, 'app-files');
	await page.goto(server.url + `/rooms/${room}`);
	await expect(page.getByTestId('composer-input')).toBeVisible();
	await expect(page.getByTestId('connection-banner')).toHaveCount(0, { timeout: 10_000 });

	await context.setOffline(true);
	await expect(page.getByTestId('connection-banner')).toContainText(/offline/i);
	const pdf = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n');
	await page.getByTestId('attach-input').setInputFiles({ name: 'offline.pdf', mimeType: 'application/pdf', buffer: pdf });
	await sendThroughApp(page, 'a file from the train');
	const [pending] = await uiRows(page);
	expect([pending?.body, pending?.status]).toEqual(['a file from the train', 'pending']);
	await expect(page.locator('[data-testid="attachment"]')).toHaveAttribute('data-status', 'pending');
	await page.close();

	const other = await peer('app-files-peer');
	await context.setOffline(false);
	await expect.poll(() => control.blank.evaluate(() => navigator.onLine)).toBe(true);
	await dispatchFlush(control);
	await expect
		.poll(async () => (await other.messages(room)).map((m) => [m.body, m.client_id, m.attachments.map((a: { name: string; size: number }) => [a.name, a.size])]), { timeout: 15_000 })
		.toEqual([['a file from the train', pending!.clientId, [['offline.pdf', pdf.length]]]]);
	// The file is served to a reader of the room.
	const [message] = await other.messages(room);
	const res = await fetch(`${server.url}/api/uploads/${message.attachments[0].id}`, { headers: { authorization: `Bearer ${other.token}` } });
	expect(res.status).toBe(200);
	expect(Buffer.from(await res.arrayBuffer()).equals(pdf)).toBe(true);
	await context.close();
});
