/**
 * Scenario 2: offline, send 2, reload while offline -> the shell loads (the
 * service worker serves it), the 2 are still pending; online -> delivered
 * once.
 */
import { expect, expectConnected, goOffline, goOnline, rows, screenshot, sendMessage, sentRows, serverMessages, signInUI, test } from './helpers.js';

test('a reload while offline keeps the pending items, which go out once when online', async ({ app, page, context }) => {
	await signInUI(page, app, 'ann');
	await expectConnected(page);

	// The app shell must be cached before the network goes.
	await expect
		.poll(() => page.evaluate(async () => !!(await navigator.serviceWorker?.getRegistration())?.active), {
			timeout: 10_000,
			message: 'an active service worker'
		})
		.toBe(true);

	await goOffline(context, page);
	const bodies = ['before the reload 1', 'before the reload 2'];
	const ids: string[] = [];
	for (const body of bodies) ids.push(await sendMessage(page, body));
	const pending = bodies.map((body, i) => ({ status: 'pending', clientId: ids[i]!, seq: null, body }));
	expect(await rows(page)).toEqual(pending);

	await page.reload();
	await expect(page).toHaveURL(/\/rooms\/lobby\/?$/);
	await expect(page.getByTestId('composer-input')).toBeVisible();
	await expect(page.getByTestId('connection-banner')).toContainText(/offline/i);
	await expect.poll(() => rows(page), { message: 'the 2 pending rows after the offline reload' }).toEqual(pending);
	await expect(page.getByTestId('pending-badge')).toContainText('2');
	await screenshot(page, 'scenario-02-offline-reload');

	await goOnline(context);
	await expect
		.poll(async () => (await rows(page)).map((r) => r.status), { timeout: 10_000, message: 'both sent within 10 s' })
		.toEqual(['sent', 'sent']);
	await expectConnected(page);
	await expect(page.getByTestId('pending-badge')).toHaveCount(0);

	const messages = await serverMessages(app);
	expect(messages.map((m) => [m.client_id, m.body])).toEqual(bodies.map((body, i) => [ids[i], body]));
	expect(await rows(page)).toEqual(sentRows(messages));
	await screenshot(page, 'scenario-02');
});
