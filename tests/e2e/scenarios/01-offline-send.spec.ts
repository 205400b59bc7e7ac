/**
 * Scenario 1: offline, send 3 -> 3 pending, badge 3, banner; online -> all
 * sent within a few seconds; a second user sees exactly those 3, once each,
 * in order.
 */
import { createPeer } from '../fixtures/peer.js';
import { expect, expectConnected, goOffline, goOnline, rows, screenshot, sendMessage, sentRows, signInUI, test } from './helpers.js';

test('offline sends stay pending, then go out once each and in order', async ({ app, page, context }) => {
	await signInUI(page, app, 'ann');
	await expectConnected(page);
	await expect(page.getByTestId('message')).toHaveCount(0);

	await goOffline(context, page);
	const bodies = ['offline one', 'offline two', 'offline three'];
	const ids: string[] = [];
	for (const body of bodies) ids.push(await sendMessage(page, body));
	expect(new Set(ids).size).toBe(3);

	expect(await rows(page)).toEqual(bodies.map((body, i) => ({ status: 'pending', clientId: ids[i], seq: null, body })));
	await expect(page.getByTestId('pending-badge')).toContainText('3');
	await expect(page.getByTestId('connection-banner')).toBeVisible();
	await expect(page.getByTestId('connection-banner')).toContainText(/offline/i);
	await screenshot(page, 'scenario-01-offline');

	await goOnline(context);
	await expect
		.poll(async () => (await rows(page)).map((r) => r.status), { timeout: 10_000, message: 'all 3 sent within 10 s' })
		.toEqual(['sent', 'sent', 'sent']);
	await expectConnected(page);
	await expect(page.getByTestId('pending-badge')).toHaveCount(0);

	const peer = await createPeer(app.url, 'bob');
	try {
		const messages = await peer.messages('lobby');
		expect(messages.map((m) => [m.client_id, m.body, m.author.name])).toEqual(bodies.map((body, i) => [ids[i], body, 'ann']));
		expect(messages.map((m) => m.seq)).toEqual([1, 2, 3]);
		// The page shows exactly what the server has, with its seqs.
		expect(await rows(page)).toEqual(sentRows(messages));
	} finally {
		peer.close();
	}
	await screenshot(page, 'scenario-01');
});
