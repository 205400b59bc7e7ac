/**
 * Scenario 7: an edit made offline of a message that another tab (the same
 * user in another browser context, still online) deleted meanwhile -> the
 * edit settles as a conflict (`failed` + `message-error`) and the row shows
 * the fresh state: deleted.
 */
import { expect, expectConnected, goOffline, goOnline, row, rows, screenshot, sendMessage, serverMessages, signInUI, test } from './helpers.js';

test('an offline edit of a message deleted elsewhere meanwhile: conflict shown, the deletion displayed', async ({ app, page, context, browser }) => {
	page.on('dialog', (dialog) => void dialog.accept());
	await signInUI(page, app, 'ann');
	await expectConnected(page);
	const id = await sendMessage(page, 'the original text');
	await expect(row(page, id)).toHaveAttribute('data-status', 'sent', { timeout: 10_000 });
	await expect(row(page, id)).toHaveAttribute('data-seq', '1');

	const other = await browser.newContext();
	try {
		const tab2 = await other.newPage();
		tab2.on('dialog', (dialog) => void dialog.accept());
		await signInUI(tab2, app, 'ann');
		await expectConnected(tab2);
		await expect.poll(() => rows(tab2)).toEqual([{ status: 'sent', clientId: id, seq: 1, body: 'the original text' }]);

		// Tab 1 goes offline and edits.
		await goOffline(context, page);
		await row(page, id).hover();
		await row(page, id).getByTestId('edit-button').click();
		await row(page, id).getByTestId('edit-input').fill('edited while offline');
		await row(page, id).getByTestId('edit-input').press('Enter');
		await expect.poll(() => rows(page)).toEqual([{ status: 'pending', clientId: id, seq: 1, body: 'edited while offline' }]);
		await expect(page.getByTestId('pending-badge')).toContainText('1');

		// Meanwhile tab 2 deletes it.
		await row(tab2, id).hover();
		await row(tab2, id).getByTestId('delete-button').click();
		await expect(row(tab2, id).getByTestId('message-body')).toHaveText(/deleted/i, { timeout: 10_000 });
		await expect(row(tab2, id)).toHaveAttribute('data-status', 'sent');
		await expect.poll(async () => (await serverMessages(app)).map((m) => [m.client_id, m.deleted, m.version])).toEqual([[id, true, 2]]);

		// Tab 1 comes back: its edit meets the deletion.
		await goOnline(context);
		await expect(row(page, id)).toHaveAttribute('data-status', 'failed', { timeout: 10_000 });
		await expect(row(page, id).getByTestId('message-error')).toHaveText(/\S/);
		await expect(row(page, id).getByTestId('message-error')).toContainText(/deleted|changed|conflict/i);
		await expect(row(page, id).getByTestId('message-body')).toHaveText(/deleted/i);
		await expect(row(page, id).getByTestId('message-body')).not.toContainText('edited while offline');
		await expect(row(page, id).getByTestId('message-body')).not.toContainText('the original text');
		await expect(page.getByTestId('message')).toHaveCount(1);
		await expectConnected(page);
		await screenshot(page, 'scenario-07');

		// The server kept the deletion; the stale edit changed nothing.
		const messages = await serverMessages(app);
		expect(messages.map((m) => [m.client_id, m.seq, m.deleted, m.body, m.version])).toEqual([[id, 1, true, '', 2]]);
		await screenshot(tab2, 'scenario-07-other-tab');
	} finally {
		await other.close();
	}
});
