/**
 * Scenario 10: Force sync (`force-sync`) fetches what the page missed and
 * flushes what waits; the toast (`sync-toast`) says "Synced N actions" with
 * N the number of queued actions a flush delivered.
 */
import { createPeer } from '../fixtures/peer.js';
import {
	expect,
	expectConnected,
	goOffline,
	goOnline,
	recordReconciled,
	routeSocket,
	rows,
	screenshot,
	sendMessage,
	sentRows,
	serverMessages,
	signInUI,
	test,
	waitForMarkRead
} from './helpers.js';

test('force sync brings a missed message and flushes the queue; the toast counts the delivered actions', async ({ app, page, context }) => {
	const socket = await routeSocket(page);
	await recordReconciled(page);
	const peer = await createPeer(app.url, 'bob');
	try {
		await signInUI(page, app, 'ann');
		await expectConnected(page);
		const first = await peer.send('lobby', 'bob: seen live');
		await expect.poll(() => rows(page)).toEqual([{ status: 'sent', clientId: first.client_id, seq: 1, body: 'bob: seen live' }]);

		// A push the page never gets: only a sync can bring it.
		socket.dropPushes.add('new_message');
		const missed = await peer.send('lobby', 'bob: push lost on the way');
		await expect.poll(() => socket.dropped.length, { message: 'the push was swallowed' }).toBe(1);
		socket.dropPushes.clear();
		expect((await rows(page)).map((r) => r.body)).toEqual(['bob: seen live']);

		await page.getByTestId('force-sync').click();
		await expect
			.poll(() => rows(page), { timeout: 10_000, message: 'the missed message after force sync' })
			.toEqual([
				{ status: 'sent', clientId: first.client_id, seq: 1, body: 'bob: seen live' },
				{ status: 'sent', clientId: missed.client_id, seq: 2, body: 'bob: push lost on the way' }
			]);
		await screenshot(page, 'scenario-10-force-sync');
		// The room marks bob's messages read by itself: let that action finish,
		// so the queue holds only what the test queues next.
		await waitForMarkRead(page, 2);
		await expect(page.getByTestId('pending-badge')).toHaveCount(0);

		// 3 queued offline -> one flush on reconnect: "Synced 3 actions".
		await goOffline(context, page);
		const offline = ['ann: queued 1', 'ann: queued 2', 'ann: queued 3'];
		for (const body of offline) await sendMessage(page, body);
		await expect(page.getByTestId('pending-badge')).toContainText('3');
		await goOnline(context);
		await expect(page.getByTestId('sync-toast')).toContainText(/\bSynced 3 actions\b/, { timeout: 10_000 });
		await expect.poll(async () => (await rows(page)).map((r) => r.status)).toEqual(['sent', 'sent', 'sent', 'sent', 'sent']);
		await screenshot(page, 'scenario-10-toast');

		// Server down, 2 queued, server back, Force sync: "Synced 2 actions".
		await app.stop();
		await expect(page.getByTestId('connection-banner')).toBeVisible();
		const down = ['ann: while the server was down 1', 'ann: while the server was down 2'];
		for (const body of down) await sendMessage(page, body);
		await expect(page.getByTestId('pending-badge')).toContainText('2');
		await app.start();
		await page.getByTestId('force-sync').click();
		await expect(page.getByTestId('sync-toast')).toContainText(/\bSynced 2 actions\b/, { timeout: 10_000 });
		await expect
			.poll(async () => (await rows(page)).map((r) => r.status), { timeout: 10_000 })
			.toEqual(['sent', 'sent', 'sent', 'sent', 'sent', 'sent', 'sent']);
		await expectConnected(page);
		await expect(page.getByTestId('pending-badge')).toHaveCount(0);

		const messages = await serverMessages(app);
		expect(messages.map((m) => m.body)).toEqual(['bob: seen live', 'bob: push lost on the way', ...offline, ...down]);
		expect(await rows(page)).toEqual(sentRows(messages));
		await screenshot(page, 'scenario-10');
	} finally {
		peer.close();
	}
});
