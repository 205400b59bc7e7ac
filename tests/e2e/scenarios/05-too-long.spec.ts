/**
 * Scenario 5: a 4,001-character message fails for good (`invalid`) with the
 * reason shown and its text kept; Discard removes it; another one, edited
 * shorter, goes out with Retry.
 */
import { expect, expectConnected, row, rows, screenshot, sendMessage, serverMessages, signInUI, test } from './helpers.js';

const long = (tag: string) => `${tag} ` + 'x'.repeat(4001 - tag.length - 1);

test('a 4,001-character message fails with the reason and keeps its text; discard, and retry after an edit', async ({ app, page }) => {
	await signInUI(page, app, 'ann');
	await expectConnected(page);

	const first = long('first');
	expect(first.length).toBe(4001);
	const firstId = await sendMessage(page, first);
	await expect(row(page, firstId)).toHaveAttribute('data-status', 'failed', { timeout: 10_000 });
	await expect(row(page, firstId).getByTestId('message-error')).toContainText(/4,?000/);
	await expect(row(page, firstId).getByTestId('retry-button')).toBeVisible();
	await expect(row(page, firstId).getByTestId('discard-button')).toBeVisible();
	expect(await rows(page)).toEqual([{ status: 'failed', clientId: firstId, seq: null, body: first }]);
	// Not sent, so counted: the badge stays until it is retried or discarded.
	await expect(page.getByTestId('pending-badge')).toHaveText('1 unsent');
	await expect(page.getByTestId('pending-badge')).toHaveAttribute('data-failed', '1');
	await screenshot(page, 'scenario-05-failed');

	await row(page, firstId).getByTestId('discard-button').click();
	await expect(page.getByTestId('message')).toHaveCount(0);
	await expect(page.getByTestId('pending-badge')).toHaveCount(0);
	expect(await serverMessages(app)).toEqual([]);

	const second = long('second');
	const secondId = await sendMessage(page, second);
	await expect(row(page, secondId)).toHaveAttribute('data-status', 'failed', { timeout: 10_000 });
	await expect(row(page, secondId).getByTestId('message-error')).toContainText(/4,?000/);
	expect(await rows(page)).toEqual([{ status: 'failed', clientId: secondId, seq: null, body: second }]);

	await row(page, secondId).getByTestId('edit-button').click();
	const editor = row(page, secondId).getByTestId('edit-input');
	await expect(editor).toHaveValue(second);
	await editor.fill('second, now short enough');
	await row(page, secondId).getByTestId('retry-button').click();

	await expect
		.poll(() => rows(page), { timeout: 10_000, message: 'the edited message sent' })
		.toEqual([expect.objectContaining({ status: 'sent', seq: 1, body: 'second, now short enough' })]);
	await expect(page.getByTestId('message-error')).toHaveCount(0);
	await expect(page.getByTestId('pending-badge')).toHaveCount(0);

	const messages = await serverMessages(app);
	expect(messages.map((m) => [m.seq, m.body, m.author.name])).toEqual([[1, 'second, now short enough', 'ann']]);
	expect((await rows(page))[0]!.clientId).toBe(messages[0].client_id);
	await screenshot(page, 'scenario-05');
});
