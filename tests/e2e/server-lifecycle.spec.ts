/**
 * The production server process: a SIGTERM closes browser sockets with 1001
 * (so phoenix.js reconnects; 1000 would strand 1.8.0–1.8.15 clients), and a
 * restart on the same data dir keeps messages and accepts the same token.
 */
import { expect, test } from './fixtures/test.js';
import { createAppServer, type AppServer } from './fixtures/app-server.js';
import { createPeer, signIn } from './fixtures/peer.js';

let app: AppServer;
test.beforeEach(async () => {
	app = await createAppServer();
});
test.afterEach(async () => {
	await app.dispose();
});

test('SIGTERM closes browser sockets with 1001; a restart keeps data and tokens', async ({ page }) => {
	const peer = await createPeer(app.url, 'lifecycle-peer');
	const sent = await peer.send('lobby', 'before the restart');
	peer.close();
	const { token } = await signIn(app.url, 'lifecycle-browser');

	await page.goto(app.url + '/');
	await page.evaluate((token) => {
		const w = window as unknown as { closeCode?: number; opened?: boolean };
		const ws = new WebSocket(`ws://${location.host}/socket/websocket?vsn=2.0.0`, ['phoenix', 'base64url.bearer.phx.' + btoa(token).replace(/=+$/, '')]);
		ws.onopen = () => (w.opened = true);
		ws.onclose = (event) => (w.closeCode = event.code);
	}, token);
	await expect.poll(() => page.evaluate(() => (window as unknown as { opened?: boolean }).opened)).toBe(true);

	await app.stop();
	await expect.poll(() => page.evaluate(() => (window as unknown as { closeCode?: number }).closeCode)).toBe(1001);

	await app.start();
	const again = await createPeer(app.url, 'lifecycle-peer');
	const messages = await again.messages('lobby');
	again.close();
	expect(messages.map((m) => [m.id, m.body])).toEqual([[sent.id, 'before the restart']]);
	const session = await fetch(app.url + '/api/session', { headers: { authorization: `Bearer ${token}` } });
	expect(session.status).toBe(200);
	await page.screenshot({ path: 'test-results/server-lifecycle.png' });
});

test('a production server hides the dev pages (gallery, kit and worker test pages) unless OUTBOX_DEV_PAGES=1', async () => {
	const plain = await createAppServer({ OUTBOX_DEV_PAGES: '0' });
	try {
		for (const path of ['/dev/components', '/dev/kit', '/dev/sw', '/dev']) expect((await fetch(plain.url + path)).status, path).toBe(404);
		expect((await fetch(plain.url + '/')).status).toBe(200);
		expect((await fetch(plain.url + '/rooms/lobby')).status).toBe(200);
	} finally {
		await plain.dispose();
	}
	expect((await fetch(app.url + '/dev/components')).status).toBe(200);
});
