/**
 * Keyboard only: focus never falls to the page body. After Discard or
 * Retry re-renders a failed row, focus goes to the next failed row's Retry,
 * else the composer; the phone drawer is a modal dialog; the toast waits
 * while focused or hovered and gives focus back when it closes; a page
 * change (sign-in, a room link, sign out) starts at the new page's heading;
 * a sign-in error is tied to the password field.
 */
import { expectConnected, goOffline, goOnline, passwordOf, row, sendMessage, signInUI, test } from '../scenarios/helpers.js';
import { createAccount, expect, expectFocus, focused, PHONE, sendFailing } from './support.js';

test('Discard moves focus to the next failed row\'s Retry, and past the last one to the composer', async ({ app, page }) => {
	await signInUI(page, app, 'ann');
	await expectConnected(page);
	const [one, two, three] = [await sendFailing(page, 'one'), await sendFailing(page, 'two'), await sendFailing(page, 'three')];

	await row(page, one!).getByTestId('discard-button').focus();
	await page.keyboard.press('Enter');
	await expect(row(page, one!)).toHaveCount(0);
	await expectFocus(page, { testid: 'retry-button', clientId: two }, 'the next failed row\'s Retry');

	// Shift+Tab from Retry reaches the same row's Discard.
	await page.keyboard.press('Shift+Tab');
	await expectFocus(page, { testid: 'discard-button', clientId: two });
	await page.keyboard.press('Enter');
	await expect(row(page, two!)).toHaveCount(0);
	await expectFocus(page, { testid: 'retry-button', clientId: three });

	await page.keyboard.press('Shift+Tab');
	await page.keyboard.press('Enter');
	await expect(page.getByTestId('message')).toHaveCount(0);
	await expectFocus(page, { testid: 'composer-input' }, 'no failed row left: the composer');
});

test('Retry re-renders its row: focus goes to the next failed row\'s Retry; a retry after editing, to the composer', async ({ app, page }) => {
	await signInUI(page, app, 'ann');
	await expectConnected(page);
	const first = await sendFailing(page, 'first');
	const second = await sendFailing(page, 'second');

	await row(page, first).getByTestId('retry-button').focus();
	await page.keyboard.press('Enter');
	await expectFocus(page, { testid: 'retry-button', clientId: second }, 'the next failed row\'s Retry');

	// The retried text is still too long: it fails again. Out of the way with it.
	const again = page.locator('[data-testid="message"][data-status="failed"]').filter({ has: page.getByTestId('message-body').filter({ hasText: /^\s*first x/ }) });
	await expect(again).toHaveCount(1, { timeout: 10_000 });
	await again.getByTestId('discard-button').click();
	await expect(again).toHaveCount(0);

	// Edit the last failed text shorter and retry with Enter: the edit box goes away, the row is sent.
	await row(page, second).getByTestId('retry-button').focus();
	await page.keyboard.press('Shift+Tab'); // Discard
	await page.keyboard.press('Shift+Tab'); // Edit
	await expectFocus(page, { testid: 'edit-button', clientId: second });
	await page.keyboard.press('Enter');
	await expectFocus(page, { testid: 'edit-input', clientId: second });
	await page.keyboard.press('ControlOrMeta+a');
	await page.keyboard.type('second, short now');
	await page.keyboard.press('Enter');
	await expect(page.getByTestId('message').filter({ hasText: 'second, short now' })).toHaveAttribute('data-status', 'sent', { timeout: 10_000 });
	await expectFocus(page, { testid: 'composer-input' }, 'no failed row after it: the composer');
	expect((await focused(page)).tag).toBe('textarea');
});

test('the phone drawer is a modal dialog: focus moves in, Tab stays in, Escape closes and returns to "Rooms"', async ({ app, browser }) => {
	const context = await browser.newContext({ viewport: PHONE });
	const page = await context.newPage();
	try {
		await signInUI(page, app, 'ann');
		await expectConnected(page);
		const rooms = page.getByRole('button', { name: 'Rooms' });
		const dialog = page.getByRole('dialog', { name: 'Rooms and account' });
		await expect(dialog).toHaveCount(0);

		await rooms.focus();
		await page.keyboard.press('Enter');
		await expect(dialog).toBeVisible();
		await expect(dialog).toHaveAttribute('aria-modal', 'true');
		await expect(rooms).toHaveAttribute('aria-expanded', 'true');
		await expectFocus(page, { inDialog: true, tag: 'a', label: 'lobby' }, 'focus on the open room\'s link');
		// The page behind is inert: not reachable by keyboard, hidden from screen readers.
		await expect(page.locator('main')).toHaveAttribute('inert', '');

		const stops = await dialog.evaluate((el) => el.querySelectorAll('a[href], button:not([disabled]), input:not([disabled])').length);
		const seen = new Set<string>();
		for (let i = 0; i < stops + 3; i++) {
			await page.keyboard.press('Tab');
			const info = await focused(page);
			expect(info.inDialog, `Tab ${i + 1} stays in the drawer (on ${info.tag} "${info.label}")`).toBe(true);
			seen.add(`${info.tag}:${info.label}`);
		}
		expect(seen.size, 'Tab visits the drawer\'s controls, wrapping around').toBeGreaterThanOrEqual(4);
		for (let i = 0; i < stops + 3; i++) {
			await page.keyboard.press('Shift+Tab');
			expect((await focused(page)).inDialog, `Shift+Tab ${i + 1} stays in the drawer`).toBe(true);
		}

		await page.keyboard.press('Escape');
		await expect(dialog).toHaveCount(0);
		await expect(rooms).toHaveAttribute('aria-expanded', 'false');
		await expectFocus(page, { tag: 'button', label: 'Rooms' }, 'Escape returns focus to "Rooms"');
		await expect(page.locator('main')).not.toHaveAttribute('inert');

		// "Close the menu" does the same.
		await page.keyboard.press('Enter');
		await expect(dialog).toBeVisible();
		await dialog.getByRole('button', { name: 'Close the menu' }).focus();
		await page.keyboard.press('Enter');
		await expect(dialog).toHaveCount(0);
		await expectFocus(page, { tag: 'button', label: 'Rooms' }, '"Close the menu" returns focus to "Rooms"');

		// Following a room link closes it and starts the new room at its heading.
		await page.keyboard.press('Enter');
		await dialog.getByLabel('Create or join a room').focus();
		await page.keyboard.type('side room');
		await page.keyboard.press('Enter');
		await page.waitForURL(/\/rooms\/side-room$/);
		await expect(dialog).toHaveCount(0);
		await expectFocus(page, { tag: 'h1', label: '#side-room' });
	} finally {
		await context.close();
	}
});

test('the toast waits while focused or hovered, closes on Escape or Dismiss, and gives focus back', async ({ app, page, context }) => {
	await signInUI(page, app, 'ann');
	await expectConnected(page);
	const toast = page.getByTestId('sync-toast');
	const dismiss = toast.getByRole('button', { name: 'Dismiss' });
	const CLOSES_AFTER_MS = 4000;

	async function syncOne(body: string) {
		await goOffline(context, page);
		await sendMessage(page, body);
		await goOnline(context);
		await expect(toast).toHaveText('Synced 1 action', { timeout: 10_000 });
	}

	// Focused: from the composer, Tab reaches Dismiss (the empty composer's Send is disabled).
	await syncOne('one');
	await page.getByTestId('composer-input').focus();
	await page.keyboard.press('Tab');
	await expectFocus(page, { label: 'Dismiss' });
	await page.waitForTimeout(CLOSES_AFTER_MS + 1500);
	await expect(toast, 'still there: focus is in it').toBeVisible();
	await page.keyboard.press('Escape');
	await expect(toast).toHaveCount(0);
	await expectFocus(page, { testid: 'composer-input' }, 'back where focus came from');

	// Hovered: it waits; once the pointer leaves, it closes by itself.
	await syncOne('two');
	await toast.hover();
	await page.waitForTimeout(CLOSES_AFTER_MS + 1500);
	await expect(toast, 'still there: the pointer is on it').toBeVisible();
	await page.mouse.move(5, 400);
	await expect(toast).toHaveCount(0, { timeout: CLOSES_AFTER_MS + 6000 });

	// Dismiss by keyboard: focus goes back, never to the body.
	await syncOne('three');
	await page.getByTestId('composer-input').focus();
	await page.keyboard.press('Tab');
	await expect(dismiss).toBeFocused();
	await page.keyboard.press('Enter');
	await expect(toast).toHaveCount(0);
	await expectFocus(page, { testid: 'composer-input' });
});

test('a page change starts at the new page\'s heading: after sign-in, a room link, and sign out', async ({ app, page }) => {
	await signInUI(page, app, 'ann');
	await expectFocus(page, { tag: 'h1', label: '#lobby' }, 'signed in: the lobby\'s heading');

	const nav = page.getByRole('navigation', { name: 'Rooms' });
	await nav.getByLabel('Create or join a room').fill('second');
	await page.keyboard.press('Enter');
	await page.waitForURL(/\/rooms\/second$/);
	await expectFocus(page, { tag: 'h1', label: '#second' });

	await nav.getByRole('link', { name: 'lobby' }).focus();
	await page.keyboard.press('Enter');
	await page.waitForURL(/\/rooms\/lobby$/);
	await expectFocus(page, { tag: 'h1', label: '#lobby' });

	await page.getByTestId('signout').focus();
	await page.keyboard.press('Enter');
	await page.waitForURL(/\/$/);
	await expectFocus(page, { tag: 'h1', label: 'Outbox' }, 'signed out: the sign-in page\'s heading');
	// The next Tab stops are the form's.
	await page.keyboard.press('Tab');
	await expectFocus(page, { testid: 'signin-name' });
});

test('a sign-in error marks the password field invalid and describes it with the error', async ({ app, page }) => {
	await createAccount(app, 'ann');
	await page.goto(app.url + '/');
	const password = page.getByTestId('signin-password');
	await expect(password).not.toHaveAttribute('aria-invalid');

	await page.getByTestId('signin-name').fill('ann');
	await password.fill('not her password');
	await password.press('Enter');
	const alert = page.getByRole('alert');
	await expect(alert).toBeVisible();
	await expect(password).toHaveAttribute('aria-invalid', 'true');
	const describedBy = await password.getAttribute('aria-describedby');
	expect(describedBy).toBeTruthy();
	await expect(page.locator(`[id="${describedBy}"]`)).toHaveText((await alert.textContent()) ?? '');
	await expect(password).toHaveAccessibleDescription((await alert.textContent())!.trim());

	await password.fill(passwordOf('ann'));
	await password.press('Enter');
	await page.waitForURL(/\/rooms\/lobby$/);
});
