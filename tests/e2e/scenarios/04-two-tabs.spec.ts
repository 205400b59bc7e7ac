/**
 * Scenario 4: two tabs of one user (two pages of one browser context: the
 * same storage) offline, 2 sends each -> the room has those 4 once each,
 * in the order they were made, and both tabs show all 4 sent.
 */
import { expect, expectConnected, goOffline, goOnline, rows, screenshot, sendMessage, sentRows, serverMessages, signInUI, test } from './helpers.js';

test('two tabs offline, two sends each: four messages once each, both tabs show them sent', async ({ app, page, context }) => {
	await signInUI(page, app, 'ann');
	const tab2 = await context.newPage();
	await tab2.goto(app.url + '/rooms/lobby');
	await expect(tab2.getByTestId('composer-input')).toBeVisible();
	await expectConnected(page);
	await expectConnected(tab2);

	await goOffline(context, page, tab2);
	// Interleaved: tab 1, tab 2, tab 1, tab 2.
	const plan = [
		{ tab: page, body: 'tab one, first' },
		{ tab: tab2, body: 'tab two, first' },
		{ tab: page, body: 'tab one, second' },
		{ tab: tab2, body: 'tab two, second' }
	];
	const ids: string[] = [];
	for (const { tab, body } of plan) ids.push(await sendMessage(tab, body));
	expect(new Set(ids).size).toBe(4);

	// One queue for the user: each tab shows all 4 as pending.
	const pending = plan.map(({ body }, i) => ({ status: 'pending', clientId: ids[i]!, seq: null, body }));
	for (const tab of [page, tab2]) {
		await expect.poll(() => rows(tab), { message: 'all 4 pending in each tab' }).toEqual(pending);
		await expect(tab.getByTestId('pending-badge')).toContainText('4');
	}
	await screenshot(page, 'scenario-04-offline-tab1');
	await screenshot(tab2, 'scenario-04-offline-tab2');

	await goOnline(context);
	for (const tab of [page, tab2]) {
		await expect
			.poll(async () => (await rows(tab)).map((r) => r.status), { timeout: 10_000, message: 'all 4 sent in each tab' })
			.toEqual(['sent', 'sent', 'sent', 'sent']);
	}

	const messages = await serverMessages(app);
	expect(messages.map((m) => [m.client_id, m.body])).toEqual(plan.map(({ body }, i) => [ids[i], body]));
	expect(messages.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
	for (const tab of [page, tab2]) {
		expect(await rows(tab)).toEqual(sentRows(messages));
		await expect(tab.getByTestId('pending-badge')).toHaveCount(0);
	}
	await screenshot(page, 'scenario-04');
	await screenshot(tab2, 'scenario-04-tab2');
});
