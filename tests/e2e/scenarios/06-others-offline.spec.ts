/**
 * Scenario 6: messages others sent while we were offline appear after the
 * reconnect, in `seq` order, no duplicates (the held socket frames and the
 * sync both carry them).
 */
import { createPeer } from '../fixtures/peer.js';
import { expect, expectConnected, goOffline, goOnline, rows, screenshot, sendMessage, sentRows, signInUI, test } from './helpers.js';

test("others' messages sent while we were offline appear after reconnect in seq order, once each", async ({ app, page, context }) => {
	const peer = await createPeer(app.url, 'bob');
	try {
		const before = await peer.send('lobby', 'bob: before');
		await signInUI(page, app, 'ann');
		await expectConnected(page);
		await expect.poll(() => rows(page)).toEqual([{ status: 'sent', clientId: before.client_id, seq: 1, body: 'bob: before' }]);

		await goOffline(context, page);
		await peer.send('lobby', 'bob: while you were away 1');
		await peer.send('lobby', 'bob: while you were away 2');
		const mine = await sendMessage(page, 'ann: sent offline');
		await peer.send('lobby', 'bob: while you were away 3');

		// Nothing of bob's reaches an offline page; ann's own is pending.
		expect(await rows(page)).toEqual([
			{ status: 'sent', clientId: before.client_id, seq: 1, body: 'bob: before' },
			{ status: 'pending', clientId: mine, seq: null, body: 'ann: sent offline' }
		]);
		await screenshot(page, 'scenario-06-offline');

		await goOnline(context);
		const expected = [
			[1, 'bob: before'],
			[2, 'bob: while you were away 1'],
			[3, 'bob: while you were away 2'],
			[4, 'bob: while you were away 3'],
			[5, 'ann: sent offline']
		];
		await expect
			.poll(async () => (await rows(page)).map((r) => [r.seq, r.body, r.status]), { timeout: 10_000, message: 'all 5 in seq order, sent' })
			.toEqual(expected.map(([seq, body]) => [seq, body, 'sent']));
		await expectConnected(page);

		const messages = await peer.messages('lobby');
		expect(messages.map((m) => [m.seq, m.body])).toEqual(expected);
		expect(messages[4].client_id).toBe(mine);
		const shown = await rows(page);
		expect(shown).toEqual(sentRows(messages));
		expect(new Set(shown.map((r) => r.clientId)).size).toBe(5);
		await screenshot(page, 'scenario-06');
	} finally {
		peer.close();
	}
});
