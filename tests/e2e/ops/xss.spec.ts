/**
 * Markup in what users type is text, everywhere the app shows it: message
 * bodies in the list and the edit box, names as authors, in the title and
 * as direct-conversation labels in the room list; and the toast after an
 * offline send. The payloads would set `window.__pwned` if they ran; the
 * page's CSP would also report them (the shared fixture fails the test on
 * any violation), and any `alert` dialog fails it too.
 */
import { createPeer } from '../fixtures/peer.js';
import { expect, expectConnected, goOffline, goOnline, sendMessage, signInUI, test } from '../scenarios/helpers.js';

// Short enough for a name (32 characters at most).
const IMG = '<img src=x onerror=__pwned=1>';
const SCRIPT = '<script>__pwned=2</script>';
const SVG = '<svg onload=__pwned=3>';

test('message bodies and names with markup render as text in the list, edit box, toast, title, room list and dm labels', async ({ app, page, context }) => {
	const dialogs: string[] = [];
	page.on('dialog', (dialog) => {
		dialogs.push(dialog.message());
		void dialog.dismiss();
	});
	const evil = await createPeer(app.url, IMG);
	const evil2 = await createPeer(app.url, SCRIPT);
	try {
		await evil.send('lobby', IMG);
		await evil2.send('lobby', SCRIPT);

		const me = await signInUI(page, app, 'victim');
		await expectConnected(page);
		const bodies = page.getByTestId('message-body');
		await expect(bodies).toHaveText([IMG, SCRIPT]);
		await expect(page.getByTestId('message').first()).toContainText(IMG);
		await expect(page.getByTestId('message').nth(1)).toContainText(SCRIPT);

		// The edit box of an own message holds the text as typed.
		const own = await sendMessage(page, SVG);
		const row = page.locator(`[data-testid="message"][data-client-id="${own}"]`);
		await expect(row).toHaveAttribute('data-status', 'sent');
		await row.hover();
		await row.getByTestId('edit-button').click();
		await expect(row.getByTestId('edit-input')).toHaveValue(SVG);
		await row.getByTestId('edit-input').press('Escape');

		// Sent offline, then the toast on the way back: text only.
		await goOffline(context, page);
		await sendMessage(page, `${IMG} offline`);
		await goOnline(context);
		await expect(page.getByTestId('sync-toast')).toHaveText(/Synced 1 action/);
		await expect(bodies.last()).toHaveText(`${IMG} offline`);

		// A direct conversation with the person named like markup: title and room list show the name as text.
		expect(me.user).not.toBeNull();
		const [a, b] = [me.user!.id, evil.user.id].sort();
		await evil.send(`dm-${a}-${b}`, SCRIPT);
		await page.getByTestId('dm-input').fill(evil.user.id);
		await page.getByTestId('dm-open').click();
		await expect(page).toHaveURL(new RegExp(`/rooms/dm-${a}-${b}$`));
		await expect(page.locator('#room-title')).toHaveText(`@ ${IMG}`);
		await expect(page).toHaveTitle(`@ ${IMG} · Outbox`);
		await expect(page.getByRole('navigation', { name: 'Rooms' }).getByRole('link', { name: new RegExp(escapeRegExp(IMG)) })).toBeVisible();
		await expect(bodies).toHaveText([SCRIPT]);

		expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
		expect(await page.locator('img[src="x"], svg[onload], script:not([src])').count()).toBeLessThanOrEqual(1); // Kit's own bootstrap script only
		expect(await page.evaluate(() => [...document.querySelectorAll('script:not([src])')].every((s) => s.textContent?.includes('__sveltekit')))).toBe(true);
		expect(dialogs).toEqual([]);
	} finally {
		evil.close();
		evil2.close();
	}
});

function escapeRegExp(text: string): string {
	return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
