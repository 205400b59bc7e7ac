/**
 * What a screen reader is told, read from the live regions themselves
 * through a scripted session: a room load (silent), someone else's message,
 * typing (silent), an online send ("Sent", and no badge flash), an outage
 * and its end (the banner's words, "Back online.", "Synced 1 action"), a
 * failure ("Failed: <why>", not the 4,001 characters) and a discard
 * ("Discarded"). Every region that speaks is present before its text
 * changes.
 */
import { createPeer } from '../fixtures/peer.js';
import { expectConnected, goOffline, goOnline, recordReconciled, row, sendMessage, signInUI, test, waitForMarkRead } from '../scenarios/helpers.js';
import { badgeShown, clearLive, expect, liveBorn, liveChanges, recordLiveRegions, said, sendFailing } from './support.js';

const OFFLINE = "You're offline — changes are saved and will be sent when you reconnect.";

test('live regions speak connection changes only after a real outage, "Sent" / "Failed: <why>" for own actions, nothing per keystroke', async ({ app, page, context }) => {
	await recordLiveRegions(page);
	await recordReconciled(page);
	const peer = await createPeer(app.url, 'bob');
	try {
		await signInUI(page, app, 'ann');
		await expectConnected(page);
		// Every region is in the page, empty, before anything happens.
		for (const id of ['connection-announcer', 'actions-announcer', 'messages-announcer', 'sync-announcer', 'composer-announcer']) {
			await expect(page.getByTestId(id), id).toHaveCount(1);
			await expect(page.getByTestId(id), id).toHaveAttribute('aria-live', 'polite');
		}
		await page.waitForTimeout(500);
		expect(await said(page, 'connection-announcer'), 'no "Back online." for a room load').toEqual([]);
		await clearLive(page);

		await test.step("someone else's message: author and text", async () => {
			await peer.send('lobby', 'a short hello');
			await expect(page.getByTestId('messages-announcer')).toHaveText('bob: a short hello');
			// The room marks it read by itself: let that action settle, so the queue holds only the test's.
			await waitForMarkRead(page, 1);
		});

		await test.step('typing says nothing; an online send says "Sent" and the badge does not flash', async () => {
			await page.getByTestId('composer-input').focus();
			await page.keyboard.type('typed key by key');
			expect(await said(page, 'composer-announcer')).toEqual([]);
			await page.keyboard.press('Enter');
			await expect(page.getByTestId('message').last()).toHaveAttribute('data-status', 'sent', { timeout: 10_000 });
			await expect(page.getByTestId('actions-announcer')).toHaveText('Sent');
			expect(await badgeShown(page), 'pending-badge never shown for a send confirmed at once').toBe(0);
		});

		await test.step('an outage: the banner\'s words once, then "Back online." and "Synced 1 action"', async () => {
			await goOffline(context, page);
			await expect(page.getByTestId('connection-announcer')).toHaveText(OFFLINE);
			await sendMessage(page, 'ann: written offline');
			await expect(page.getByTestId('pending-badge')).toHaveText('1 pending');
			await goOnline(context);
			await expect(page.getByTestId('connection-announcer')).toHaveText('Back online.', { timeout: 10_000 });
			await expect(page.getByTestId('sync-announcer')).toHaveText('Synced 1 action', { timeout: 10_000 });
			await expect(page.getByTestId('actions-announcer')).toHaveText('Sent');
		});

		await test.step('"Sync now" with nothing waiting shows no "Synced 0 actions"', async () => {
			await expect(page.getByTestId('pending-badge')).toHaveCount(0);
			await page.getByTestId('force-sync').click();
			await expect(page.getByTestId('force-sync')).toHaveAttribute('aria-busy', 'false');
			await page.waitForTimeout(300);
			await expect(page.getByTestId('sync-toast')).toHaveCount(0);
		});

		await test.step('a 4,001-character failure: "Failed: <why>", never the text', async () => {
			const id = await sendFailing(page, 'long');
			await expect(page.getByTestId('actions-announcer')).toHaveText('Failed: body is longer than 4000 characters');
			await row(page, id).getByTestId('discard-button').click();
			await expect(page.getByTestId('actions-announcer')).toHaveText('Discarded');
		});

		const changes = await liveChanges(page);
		const spoken = changes.filter((c) => c.text !== '');
		// Everything said, region by region, in order.
		expect(await said(page, 'connection-announcer')).toEqual([OFFLINE, 'Back online.']);
		expect(await said(page, 'sync-announcer')).toEqual(['Synced 1 action']);
		expect(await said(page, 'messages-announcer')).toEqual(['bob: a short hello']);
		expect(await said(page, 'actions-announcer')).toEqual(['Sent', 'Sent', 'Failed: body is longer than 4000 characters', 'Discarded']);
		// Crossing the limit is said once (filling 4,001 characters), not per character.
		expect(await said(page, 'composer-announcer')).toEqual(['Over the 4,000 character limit']);
		// No other region spoke (not the log, not the badge, not the banner itself).
		const regions = new Set(spoken.map((c) => c.region));
		expect([...regions].sort()).toEqual(['actions-announcer', 'composer-announcer', 'connection-announcer', 'messages-announcer', 'sync-announcer']);
		expect(spoken.every((c) => c.text.length < 300), `nothing long read out: ${JSON.stringify(spoken.map((c) => c.text.length))}`).toBe(true);
		expect(await liveBorn(page), 'no live region appeared with its text already inside').toEqual([]);
	} finally {
		peer.close();
	}
});
