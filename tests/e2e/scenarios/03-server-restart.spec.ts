/**
 * Scenario 3: the server goes away while the page is connected (SIGTERM:
 * sockets closed 1001; SIGKILL: no close frame), 2 sends wait as pending,
 * the server comes back on the same data -> delivered once, in order.
 */
import type { AppServer } from '../fixtures/app-server.js';
import { expect, expectConnected, rows, screenshot, sendMessage, sentRows, serverMessages, signInUI, test } from './helpers.js';
import type { Page } from '@playwright/test';

async function scenario(app: AppServer, page: Page, how: 'stop' | 'kill', shot: string) {
	await signInUI(page, app, 'ann');
	await expectConnected(page);
	const first = await sendMessage(page, 'before the outage');
	await expect.poll(() => rows(page)).toEqual([{ status: 'sent', clientId: first, seq: 1, body: 'before the outage' }]);

	await app[how]();
	await expect(page.getByTestId('connection-banner')).toBeVisible();
	// The network is fine; the server is not: the banner says reconnecting, and keeps saying it.
	await expect(page.getByTestId('connection-banner')).toContainText(/reconnecting/i);
	await page.waitForTimeout(3000);
	await expect(page.getByTestId('connection-banner')).toContainText(/reconnecting/i);
	await expect(page.getByTestId('connection-banner')).not.toContainText(/offline/i);

	const bodies = ['during the outage 1', 'during the outage 2'];
	const ids: string[] = [];
	for (const body of bodies) ids.push(await sendMessage(page, body));
	expect(await rows(page)).toEqual([
		{ status: 'sent', clientId: first, seq: 1, body: 'before the outage' },
		...bodies.map((body, i) => ({ status: 'pending', clientId: ids[i]!, seq: null, body }))
	]);
	await expect(page.getByTestId('pending-badge')).toContainText('2');
	await screenshot(page, `${shot}-down`);

	await app.start();
	await expect
		.poll(async () => (await rows(page)).map((r) => r.status), { timeout: 15_000, message: 'all sent after the restart' })
		.toEqual(['sent', 'sent', 'sent']);
	await expectConnected(page);
	await expect(page.getByTestId('pending-badge')).toHaveCount(0);

	const messages = await serverMessages(app);
	expect(messages.map((m) => [m.client_id, m.body, m.seq])).toEqual([
		[first, 'before the outage', 1],
		[ids[0], bodies[0], 2],
		[ids[1], bodies[1], 3]
	]);
	expect(await rows(page)).toEqual(sentRows(messages));
	await screenshot(page, shot);
}

test('server stopped (SIGTERM) while connected: pending sends go out once, in order, after the restart', async ({ app, page }) => {
	await scenario(app, page, 'stop', 'scenario-03');
});

test('server killed (SIGKILL) while connected: pending sends go out once, in order, after the restart', async ({ app, page }) => {
	await scenario(app, page, 'kill', 'scenario-03-kill');
});
