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
import { expect, test, type BrowserContext, type CDPSession, type Page } from '@playwright/test';
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
