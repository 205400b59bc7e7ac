import { expect, test } from './fixtures/test.js';

// The chat app's happy path through the UI: sign in, send, see it confirmed, sign out.
test('signs in to the lobby, sends a message that the server confirms, and signs out', async ({ page }) => {
	const name = `smoke-${Date.now().toString(36)}`;
	await page.goto('/');
	await page.getByTestId('signin-name').fill(name);
	await page.getByTestId('signin-password').fill('pw-smoke-app');
	await page.getByTestId('signin-submit').click();
	await expect(page).toHaveURL(/\/rooms\/lobby$/);

	const body = `hello from ${name}`;
	await page.getByTestId('composer-input').fill(body);
	await page.getByTestId('send-button').click();

	const mine = page.getByTestId('message').filter({ has: page.getByTestId('message-body').getByText(body, { exact: true }) });
	await expect(mine).toHaveCount(1);
	await expect(mine).toHaveAttribute('data-status', 'sent', { timeout: 10_000 });
	await expect(mine).toHaveAttribute('data-seq', /^\d+$/);
	await expect(mine).toHaveAttribute('data-client-id', /.+/);
	await expect(page.getByTestId('pending-badge')).toHaveCount(0);
	await expect(page).toHaveTitle('#lobby · Outbox');

	await page.getByTestId('signout').click();
	await expect(page).toHaveURL(/\/$/);
	await expect(page.getByTestId('signin-name')).toBeVisible();
	await expect(page.getByTestId('signin-submit')).toBeVisible();
	expect(await page.evaluate(() => localStorage.getItem('outbox:session'))).toBeNull();
	await page.screenshot({ path: 'test-results/app-smoke.png' });
});

// A phone: the sidebar is a drawer, yet Sign out is one tap away (in the room header), and only one exists.
test('on a phone-sized screen sign out is reachable without opening the menu', async ({ browser }) => {
	const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
	const page = await context.newPage();
	await page.goto('/');
	await page.getByTestId('signin-name').fill(`phone-${Date.now().toString(36)}`);
	await page.getByTestId('signin-password').fill('pw-phone');
	await page.getByTestId('signin-submit').click();
	await expect(page).toHaveURL(/\/rooms\/lobby$/);
	await expect(page.getByTestId('signout')).toHaveCount(1);
	await expect(page.getByTestId('signout')).toBeVisible();
	await expect(page.getByTestId('force-sync')).toBeVisible();
	await page.screenshot({ path: 'test-results/app-phone-room.png' });
	await page.getByTestId('signout').click();
	await expect(page).toHaveURL(/\/$/);
	await expect(page.getByTestId('signin-name')).toBeVisible();
	await context.close();
});
