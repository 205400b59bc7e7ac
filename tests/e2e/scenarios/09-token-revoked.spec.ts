/**
 * Scenario 9: the token is revoked (`DELETE /api/session`, from Node) while
 * the page is offline -> on reconnect the banner says signed out and asks
 * to sign in again; the queued items are still there (not sent, not
 * dropped); after signing in again they are delivered once.
 */
import { expect, expectConnected, goOffline, goOnline, rows, screenshot, sendMessage, sentRows, serverMessages, signInUI, test } from './helpers.js';

test('token revoked while offline: signed-out banner on reconnect, nothing lost, delivered after signing in again', async ({ app, page, context }) => {
	const session = await signInUI(page, app, 'ann');
	expect(session.token, 'the page signs in with POST /api/session').toBeTruthy();
	await expectConnected(page);

	await goOffline(context, page);
	const bodies = ['ann: before the revoke 1', 'ann: before the revoke 2'];
	const ids: string[] = [];
	for (const body of bodies) ids.push(await sendMessage(page, body));
	const pending = bodies.map((body, i) => ({ status: 'pending', clientId: ids[i]!, seq: null, body }));
	expect(await rows(page)).toEqual(pending);

	const revoke = await fetch(app.url + '/api/session', { method: 'DELETE', headers: { authorization: `Bearer ${session.token}` } });
	expect(revoke.status).toBeLessThan(300);
	expect((await fetch(app.url + '/api/session', { headers: { authorization: `Bearer ${session.token}` } })).status).toBe(401);

	await goOnline(context);
	const banner = page.getByTestId('connection-banner');
	await expect(banner).toContainText(/signed out/i, { timeout: 10_000 });
	await expect(banner).toContainText(/sign in/i);
	await expect(banner.getByRole('button', { name: /sign in/i })).toBeVisible();
	// Nothing lost, nothing sent.
	expect(await rows(page)).toEqual(pending);
	await expect(page.getByTestId('pending-badge')).toContainText('2');
	expect(await serverMessages(app)).toEqual([]);
	await screenshot(page, 'scenario-09-signed-out');

	await banner.getByRole('button', { name: /sign in/i }).click();
	await expect(page.getByTestId('signin-name')).toBeVisible();
	await signInUI(page, app, 'ann', { goto: false });
	await expect
		.poll(async () => (await rows(page)).map((r) => r.status), { timeout: 10_000, message: 'both delivered after signing in again' })
		.toEqual(['sent', 'sent']);
	await expectConnected(page);
	await expect(page.getByTestId('pending-badge')).toHaveCount(0);

	const messages = await serverMessages(app);
	expect(messages.map((m) => [m.client_id, m.body])).toEqual(bodies.map((body, i) => [ids[i], body]));
	expect(await rows(page)).toEqual(sentRows(messages));
	await screenshot(page, 'scenario-09');
});
