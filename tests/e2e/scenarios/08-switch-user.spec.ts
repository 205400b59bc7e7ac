/**
 * Scenario 8: sign out with pending items, sign in as someone else -> the
 * first user's items are neither shown nor sent; signing back in as the
 * first user brings them back (pending while the server is out of reach,
 * then sent).
 */
import { expect, expectConnected, goOffline, goOnline, routeSocket, rows, screenshot, sendMessage, serverMessages, signInUI, test } from './helpers.js';

test("another user on the same browser neither sees nor sends the first user's queue; it comes back with its owner", async ({ app, page, context }) => {
	const socket = await routeSocket(page);
	await signInUI(page, app, 'ann');
	await expectConnected(page);

	await goOffline(context, page);
	const annBodies = ['ann: queued 1', 'ann: queued 2'];
	const annIds: string[] = [];
	for (const body of annBodies) annIds.push(await sendMessage(page, body));
	await expect(page.getByTestId('pending-badge')).toContainText('2');

	await page.getByTestId('signout').click();
	await expect(page.getByTestId('signin-name')).toBeVisible();
	await expect(page.getByTestId('message')).toHaveCount(0);
	await expect(page.getByTestId('pending-badge')).toHaveCount(0);

	await goOnline(context);
	await signInUI(page, app, 'bob', { goto: false });
	await expectConnected(page);
	await expect(page.getByTestId('message')).toHaveCount(0);
	await expect(page.getByTestId('pending-badge')).toHaveCount(0);
	// Bob's own send goes out (so the socket flushed what bob's queue holds: only this).
	const bobId = await sendMessage(page, 'bob: hello');
	await expect.poll(() => rows(page), { timeout: 10_000 }).toEqual([{ status: 'sent', clientId: bobId, seq: 1, body: 'bob: hello' }]);
	await expect(page.getByTestId('pending-badge')).toHaveCount(0);
	expect((await serverMessages(app)).map((m) => [m.client_id, m.body])).toEqual([[bobId, 'bob: hello']]);
	await screenshot(page, 'scenario-08-other-user');

	await page.getByTestId('signout').click();
	await expect(page.getByTestId('signin-name')).toBeVisible();

	// Ann back, with the socket out of reach at first: her items are pending
	// again (and bob's message, which she has never seen, cannot show yet).
	socket.blocked = true;
	await signInUI(page, app, 'ann', { goto: false });
	await expect
		.poll(() => rows(page), { message: "ann's 2 items back, pending" })
		.toEqual(annBodies.map((body, i) => ({ status: 'pending', clientId: annIds[i]!, seq: null, body })));
	await expect(page.getByTestId('pending-badge')).toContainText('2');
	await screenshot(page, 'scenario-08-back-pending');

	socket.blocked = false;
	await expect
		.poll(() => rows(page), { timeout: 15_000, message: "ann's items sent" })
		.toEqual([
			{ status: 'sent', clientId: bobId, seq: 1, body: 'bob: hello' },
			...annBodies.map((body, i) => ({ status: 'sent', clientId: annIds[i]!, seq: i + 2, body }))
		]);
	await expectConnected(page);
	await expect(page.getByTestId('pending-badge')).toHaveCount(0);

	const messages = await serverMessages(app);
	expect(messages.map((m) => [m.client_id, m.body, m.author.name])).toEqual([
		[bobId, 'bob: hello', 'bob'],
		[annIds[0], annBodies[0], 'ann'],
		[annIds[1], annBodies[1], 'ann']
	]);
	await screenshot(page, 'scenario-08');
});
