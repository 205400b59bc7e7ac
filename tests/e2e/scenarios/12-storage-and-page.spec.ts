/**
 * Storage trouble the user can see, the age of what an offline room shows,
 * and the page around the queue: the automatic IndexedDB → localStorage
 * fallback (with its warning), `last-synced` in the banner while offline,
 * the `(N)` title count, and the unload guard.
 */
import { expect, expectConnected, goOffline, goOnline, rows, sendMessage, serverMessages, signInUI, test } from './helpers.js';

test('without IndexedDB the queue falls back to localStorage, says so, and still delivers once', async ({ app, page, context }) => {
	await page.addInitScript(() => {
		Object.defineProperty(window, 'indexedDB', { configurable: true, get: () => undefined });
	});
	await signInUI(page, app, 'nodb');
	await expectConnected(page);
	const warning = page.getByTestId('storage-warning');
	await expect(warning).toHaveAttribute('data-trouble', 'no-indexeddb');
	await expect(warning).toContainText(/small store/i);

	await goOffline(context, page);
	const id = await sendMessage(page, 'kept in localStorage');
	const stored = await page.evaluate(() => Object.keys(localStorage).filter((key) => key.includes('/q/')));
	expect(stored).toHaveLength(1); // the item, under the kit's localStorage layout
	await page.reload();
	await expect.poll(() => rows(page)).toEqual([{ status: 'pending', clientId: id, seq: null, body: 'kept in localStorage' }]);
	await goOnline(context);
	await expect.poll(async () => (await rows(page)).map((r) => r.status), { timeout: 10_000 }).toEqual(['sent']);
	expect((await serverMessages(app)).map((m) => m.client_id)).toEqual([id]);
});

test('offline, the banner says when the room was last synced; the title counts what waits', async ({ app, page, context }) => {
	await signInUI(page, app, 'ages');
	await expectConnected(page);
	await expect(page.getByTestId('last-synced')).toHaveCount(0); // only while not connected
	await goOffline(context, page);
	const banner = page.getByTestId('connection-banner');
	await expect(banner.getByTestId('last-synced')).toHaveText('Last synced just now');
	await expect(page).not.toHaveTitle(/^\(/);
	await sendMessage(page, 'one');
	await sendMessage(page, 'two');
	await expect(page).toHaveTitle(/^\(2\) #lobby/);
	// The snapshot knows its age after a reload too.
	await page.reload();
	await expect(page.getByTestId('connection-banner').getByTestId('last-synced')).toHaveText(/^Last synced/);
	await goOnline(context);
	await expect(page).toHaveTitle(/^#lobby/, { timeout: 10_000 });
});

test('closing a tab with changes waiting asks first; with nothing waiting it does not', async ({ app, page, context }) => {
	await signInUI(page, app, 'leaver');
	await expectConnected(page);
	const dialogs: string[] = [];
	page.on('dialog', (dialog) => {
		dialogs.push(dialog.type());
		void dialog.dismiss();
	});
	await page.getByTestId('composer-input').click(); // a user gesture: browsers ask only after one
	await goOffline(context, page);
	await sendMessage(page, 'not sent yet');
	await page.close({ runBeforeUnload: true });
	await expect.poll(() => dialogs).toEqual(['beforeunload']);
	expect(page.isClosed()).toBe(false); // dismissed: the tab stays

	await goOnline(context);
	await expect(page.getByTestId('pending-badge')).toHaveCount(0, { timeout: 10_000 });
	await page.close({ runBeforeUnload: true });
	await expect.poll(() => page.isClosed()).toBe(true);
	expect(dialogs).toEqual(['beforeunload']);
});
