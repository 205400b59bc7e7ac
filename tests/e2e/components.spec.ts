import { expect, test, type Locator, type Page } from './fixtures/test.js';

// The component gallery (/dev/components) renders every component with
// sample data and logs the callbacks into `gallery-log`.

const OFFLINE = "You're offline — changes are saved and will be sent when you reconnect.";
const SIGNED_OUT = "You've been signed out — sign in again to send your pending changes.";

const gallery = (page: Page, name: string) => page.locator(`[data-gallery="${name}"]`);
const log = (page: Page) => page.getByTestId('gallery-log');

test.beforeEach(async ({ page }) => {
	await page.goto('/dev/components');
	// Hydrated: the chat's pending rows are there and the composer reacts.
	await expect(gallery(page, 'chat').getByTestId('message')).toHaveCount(10);
});

test('the connection banner says offline, reconnecting or signed out, and is absent when connected', async ({ page }) => {
	const offline = gallery(page, 'banner-offline').getByTestId('connection-banner');
	await expect(offline).toContainText(OFFLINE);
	// The banner is not live itself; its always-present region speaks changes (tests/e2e/a11y/announcements.spec.ts).
	await expect(offline).not.toHaveAttribute('aria-live');
	const region = gallery(page, 'banner-offline').getByTestId('connection-announcer');
	await expect(region).toHaveAttribute('role', 'status');
	await expect(region).toHaveAttribute('aria-live', 'polite');
	await expect(offline.getByRole('button', { name: 'Retry now' })).toBeVisible();

	const connecting = gallery(page, 'banner-connecting').getByTestId('connection-banner');
	await expect(connecting).toContainText('Reconnecting…');
	await expect(connecting).not.toContainText('offline');
	// Socket closed but the browser online: the server is down, not the network.
	const serverDown = gallery(page, 'banner-server-down').getByTestId('connection-banner');
	await expect(serverDown).toContainText("Reconnecting… Can't reach the server");
	await expect(serverDown).not.toContainText('offline');
	await expect(serverDown.getByRole('button', { name: 'Retry now' })).toBeVisible();

	const signedOut = gallery(page, 'banner-signed-out').getByTestId('connection-banner');
	await expect(signedOut).toContainText(SIGNED_OUT);
	await expect(signedOut.getByRole('button', { name: 'Sign in' })).toBeVisible();
	await expect(signedOut.getByRole('button', { name: 'Retry now' })).toHaveCount(0);

	await expect(gallery(page, 'banner-connected').getByTestId('connection-banner')).toHaveCount(0);

	// The chat's banner follows its state.
	const chatBanner = gallery(page, 'chat').getByTestId('connection-banner');
	await expect(chatBanner).toContainText(OFFLINE);
	await page.getByTestId('gallery-connection').selectOption('connected');
	await expect(chatBanner).toHaveCount(0);
	await page.getByTestId('gallery-connection').selectOption('signed-out');
	await expect(chatBanner).toContainText(SIGNED_OUT);
	await chatBanner.getByRole('button', { name: 'Sign in' }).click();
	await expect(log(page)).toContainText('sign in');
});

test('the pending badge holds the count and is absent at zero', async ({ page }) => {
	await expect(gallery(page, 'badge-3').getByTestId('pending-badge')).toHaveText('3 pending');
	await expect(gallery(page, 'badge-1').getByTestId('pending-badge')).toHaveText('1 pending');
	await expect(gallery(page, 'badge-0').getByTestId('pending-badge')).toHaveCount(0);
	// Failed items stay in the queue until retried or discarded: still counted, and said so.
	const failed = gallery(page, 'badge-failed').getByTestId('pending-badge');
	await expect(failed).toHaveText('4 unsent');
	await expect(failed).toHaveAttribute('data-failed', '1');
	await expect(failed).toHaveAttribute('aria-label', '4 changes not sent yet, 1 failed: retry or discard it');
	// The chat: 2 pending sends + 3 failed actions.
	await expect(gallery(page, 'chat').getByTestId('pending-badge')).toHaveText('5 pending');
});

test('message rows carry status, client id and seq (only when sent), in order', async ({ page }) => {
	const rows = gallery(page, 'chat').getByTestId('message');
	const attrs = await rows.evaluateAll((els) =>
		els.map((el) => ({
			status: el.getAttribute('data-status'),
			clientId: el.getAttribute('data-client-id'),
			seq: el.getAttribute('data-seq')
		}))
	);
	expect(attrs).toEqual([
		{ status: 'sent', clientId: 'c1', seq: '1' },
		{ status: 'sent', clientId: 'c2', seq: '2' },
		{ status: 'sent', clientId: 'c3', seq: '3' },
		{ status: 'sent', clientId: 'c4', seq: '4' },
		{ status: 'sent', clientId: 'c5', seq: '5' },
		// A confirmed row whose edit failed with a conflict keeps its seq.
		{ status: 'failed', clientId: 'c6', seq: '6' },
		{ status: 'pending', clientId: 'p-1', seq: null },
		{ status: 'pending', clientId: 'p-2', seq: null },
		{ status: 'failed', clientId: 'f-1', seq: null },
		{ status: 'failed', clientId: 'f-2', seq: null }
	]);

	const chat = gallery(page, 'chat');
	await expect(chat.locator('[data-client-id="c1"]').getByTestId('message-body')).toHaveText(
		'Morning! Is the offline build ready for the demo?'
	);
	await expect(chat.locator('[data-client-id="c5"]').getByTestId('message-body')).toHaveText('Message deleted');
	await expect(chat.locator('[data-client-id="f-1"]').getByTestId('message-error')).toHaveText(
		'Not sent: body is longer than 4000 characters'
	);
	await expect(chat.locator('[data-client-id="f-2"]').getByTestId('message-error')).toHaveText(
		"Not sent: the server didn't answer in time"
	);
	await expect(chat.locator('[data-client-id="c6"]').getByTestId('message-error')).toHaveText(
		'Not applied: the message changed or was deleted meanwhile'
	);
});

test('retry and discard buttons exist only inside failed messages', async ({ page }) => {
	const chat = gallery(page, 'chat');
	await expect(chat.getByTestId('retry-button')).toHaveCount(3);
	await expect(chat.getByTestId('discard-button')).toHaveCount(3);
	await expect(chat.getByTestId('message-error')).toHaveCount(3);
	const failed = chat.locator('[data-testid="message"][data-status="failed"]');
	await expect(failed.getByTestId('retry-button')).toHaveCount(3);
	await expect(failed.getByTestId('discard-button')).toHaveCount(3);
	const others = chat.locator('[data-testid="message"]:not([data-status="failed"])');
	await expect(others.getByTestId('retry-button')).toHaveCount(0);
	await expect(others.getByTestId('discard-button')).toHaveCount(0);
	await expect(others.getByTestId('message-error')).toHaveCount(0);

	await chat.locator('[data-client-id="f-2"]').getByTestId('discard-button').click();
	await expect(chat.locator('[data-client-id="f-2"]')).toHaveCount(0);
	await expect(log(page)).toContainText('discard: f-2');
});

test('a failed send keeps its text, and Retry after editing sends the edited text', async ({ page }) => {
	const row = gallery(page, 'chat').locator('[data-client-id="f-1"]');
	await expect(row.getByTestId('message-body')).toContainText('(imagine 4,001 characters here)');
	await row.getByTestId('edit-button').click();
	const editor = row.getByTestId('edit-input');
	await expect(editor).toBeFocused();
	await editor.fill('A shorter text');
	await row.getByTestId('retry-button').click();
	await expect(log(page)).toContainText('retry: f-1 with "A shorter text"');
	await expect(row).toHaveAttribute('data-status', 'pending');
	await expect(row.getByTestId('message-body')).toHaveText('A shorter text');
});

test('own sent messages can be edited inline (Enter saves, Escape cancels)', async ({ page }) => {
	const row = gallery(page, 'chat').locator('[data-client-id="c2"]');
	await row.hover();
	await row.getByTestId('edit-button').click();
	await page.keyboard.press('End');
	await page.keyboard.type(' Really.');
	await page.keyboard.press('Escape');
	await expect(row.getByTestId('edit-input')).toHaveCount(0);
	await expect(log(page)).not.toContainText('edit:');

	await row.hover();
	await row.getByTestId('edit-button').click();
	await row.getByTestId('edit-input').fill('Edited by the test');
	await page.keyboard.press('Enter');
	await expect(log(page)).toContainText('edit: c2 -> "Edited by the test"');
	await expect(row.getByTestId('message-body')).toHaveText('Edited by the test');
});

test('the composer sends on Enter, adds a line on Shift+Enter, clears and keeps focus', async ({ page }) => {
	const input = page.getByTestId('composer-input');
	await input.click();
	await page.keyboard.type('first line');
	await page.keyboard.press('Shift+Enter');
	await page.keyboard.type('second line');
	await expect(input).toHaveValue('first line\nsecond line');
	await page.keyboard.press('Enter');
	await expect(log(page)).toContainText('send: first line\nsecond line');
	await expect(input).toHaveValue('');
	await expect(input).toBeFocused();

	const last = gallery(page, 'chat').getByTestId('message').last();
	await expect(last).toHaveAttribute('data-status', 'pending');
	await expect(last.getByTestId('message-body')).toHaveText('first line\nsecond line');

	// Scrolled up, a new own message still comes into view.
	await gallery(page, 'chat').getByRole('log').evaluate((el) => (el.scrollTop = 0));
	await expect(gallery(page, 'chat').getByRole('button', { name: 'Jump to latest ↓' })).toBeVisible();
	await input.focus();
	await page.keyboard.type('via the button');
	await page.getByTestId('send-button').click();
	await expect(log(page)).toContainText('send: via the button');
	await expect(input).toBeFocused();
	await expect(gallery(page, 'chat').getByTestId('message').last()).toBeInViewport();
	await expect(gallery(page, 'chat').getByRole('button', { name: 'Jump to latest ↓' })).toHaveCount(0);
});

test('the composer does not block over-long text: the counter turns red instead', async ({ page }) => {
	const input = page.getByTestId('composer-input');
	await input.fill('a'.repeat(4001));
	await expect(page.getByTestId('send-button')).toBeEnabled();
	await expect(page.getByText('4,001 / 4,000 — over the limit')).toBeVisible();
	await input.press('Enter');
	await expect(log(page)).toContainText('(4001 chars)');
	await expect(input).toHaveValue('');
});

test('10,000 messages: few rows in the DOM, the right rows in the middle and at the bottom', async ({ page }) => {
	const section = gallery(page, 'big-list');
	const viewport = section.getByRole('log');
	const rows = section.getByTestId('message');
	await section.scrollIntoViewIfNeeded();

	// Starts at the newest message.
	await expect(rows.last()).toHaveAttribute('data-seq', '11000');
	expect(await rows.count()).toBeLessThan(150);

	await viewport.evaluate((el) => (el.scrollTop = el.scrollHeight / 2));
	await expect.poll(() => seqsInView(viewport)).not.toEqual([]);
	const middle = await seqsInView(viewport);
	expect(await rows.count()).toBeLessThan(150);
	expect(middle[0]).toBeGreaterThan(3000);
	expect(middle.at(-1)).toBeLessThan(9000);
	// Consecutive rows, in order.
	middle.forEach((seq, i) => expect(seq).toBe((middle[0] as number) + i));

	await viewport.evaluate((el) => (el.scrollTop = el.scrollHeight));
	await expect(section.locator('[data-seq="11000"]')).toBeInViewport();
	expect(await rows.count()).toBeLessThan(150);

	// Stuck to the bottom: an arriving message shows.
	await page.getByTestId('gallery-append').click();
	await expect(section.locator('[data-seq="11001"]')).toBeInViewport();
});

test('10,000 messages: near the top older messages load once and the view stays put', async ({ page }) => {
	const section = gallery(page, 'big-list');
	const viewport = section.getByRole('log');
	await section.scrollIntoViewIfNeeded();
	await viewport.evaluate((el) => (el.scrollTop = 0));
	await expect(section.locator('[data-seq="1001"]')).toBeInViewport();
	const before = await section.locator('[data-seq="1001"]').boundingBox();
	await expect(page.getByTestId('gallery-big-count')).toHaveText('10,050 messages');
	// The row that was in view is still in view, at the same place (the 50 older rows are above it).
	await expect(section.locator('[data-seq="1001"]')).toBeInViewport();
	const after = await section.locator('[data-seq="1001"]').boundingBox();
	expect(Math.abs((after?.y ?? 0) - (before?.y ?? 0))).toBeLessThan(2);
	await page.waitForTimeout(800);
	await expect(page.getByTestId('gallery-big-count')).toHaveText('10,050 messages');
	await expect(log(page)).toHaveText('load older');
});

test('10,000 messages: scrolling up, the rows in view move by the scroll and no more while unmeasured rows enter above', async ({ page }) => {
	const section = gallery(page, 'big-list');
	const viewport = section.getByRole('log');
	await section.scrollIntoViewIfNeeded();
	await viewport.evaluate((el) => (el.scrollTop = el.scrollHeight / 2));
	await expect.poll(() => seqsInView(viewport)).not.toEqual([]);
	// 20 steps of 300 px a frame (a fling) through rows never rendered before: after each, the row
	// that was first in view must be exactly 300 px lower, whatever the rows entering above measured.
	// Without the browser's scroll anchoring (Safari has none), so that the list's own keeping is tested.
	const moves = await viewport.evaluate(async (el) => {
		el.style.overflowAnchor = 'none';
		const frame = () => new Promise((resolve) => requestAnimationFrame(resolve));
		await frame();
		await frame();
		const out: number[] = [];
		for (let step = 0; step < 20; step++) {
			const box = el.getBoundingClientRect();
			const row = [...el.querySelectorAll<HTMLElement>('li[data-key]')].find((li) => li.getBoundingClientRect().top >= box.top);
			if (!row) throw new Error('no row in view');
			const key = row.dataset.key as string;
			const top = row.getBoundingClientRect().top;
			el.scrollTop -= 300;
			await frame();
			await frame();
			const same = el.querySelector<HTMLElement>(`li[data-key="${CSS.escape(key)}"]`);
			if (!same) throw new Error(`row ${key} left the DOM`);
			out.push(Math.round((same.getBoundingClientRect().top - top) * 10) / 10);
		}
		return out;
	});
	expect(moves).toHaveLength(20);
	for (const move of moves) expect(Math.abs(move - 300)).toBeLessThanOrEqual(1);
	await expect(page.getByTestId('gallery-big-count')).toHaveText('10,000 messages');
});

test('force sync delivers pending rows and the toast says "Synced N actions", then goes away', async ({ page }) => {
	await page.getByTestId('force-sync').first().click();
	const toast = page.getByTestId('sync-toast');
	await expect(toast).toHaveText('Synced 2 actions');
	await expect(page.getByTestId('sync-announcer')).toHaveText('Synced 2 actions');
	await expect(page.getByTestId('sync-announcer')).toHaveAttribute('role', 'status');
	const chat = gallery(page, 'chat');
	await expect(chat.locator('[data-client-id="p-1"]')).toHaveAttribute('data-status', 'sent');
	await expect(chat.locator('[data-client-id="p-1"]')).toHaveAttribute('data-seq', '7');
	await expect(chat.getByTestId('pending-badge')).toHaveText('3 pending');
	await expect(toast).toHaveCount(0, { timeout: 6000 });

	await page.getByTestId('gallery-toast-1').click();
	// DESIGN.md's words exactly: singular for one.
	await expect(toast).toHaveText('Synced 1 action');
	await toast.getByRole('button', { name: 'Dismiss' }).click();
	await expect(toast).toHaveCount(0);
});

test('the room list links to rooms and turns names into slugs', async ({ page }) => {
	const nav = gallery(page, 'chat').getByRole('navigation', { name: 'Rooms' });
	await expect(nav.getByRole('link', { name: /design-review/ })).toHaveAttribute('href', '/rooms/design-review');
	await expect(nav.getByRole('link', { name: /lobby/ })).toHaveAttribute('aria-current', 'page');
	await expect(nav.getByRole('link', { name: /design-review/ })).toContainText('3');

	const input = nav.getByLabel('Create or join a room');
	await input.fill('  Team Lunch! ');
	await input.press('Enter');
	await expect(log(page)).toContainText('create: team-lunch');
	await expect(nav.getByRole('link', { name: /team-lunch/ })).toHaveAttribute('href', '/rooms/team-lunch');

	await input.fill('!!!');
	await input.press('Enter');
	await expect(nav.getByText('Use letters, digits, spaces or dashes (up to 40).')).toBeVisible();
});

test('the sign-in form has labelled fields and submits name and password', async ({ page }) => {
	await expect(page.getByText('the first sign-in with a name creates the account')).toBeVisible();
	await page.getByTestId('signin-name').fill('  grace ');
	await page.getByTestId('signin-password').fill('secret');
	await page.getByTestId('signin-submit').click();
	await expect(log(page)).toContainText('sign in: grace (6 chars)');
	await expect(page.getByLabel('Name')).toHaveAttribute('data-testid', 'signin-name');
	await expect(page.getByLabel('Password')).toHaveAttribute('data-testid', 'signin-password');
});

/** The seqs of the rows visible in a scrolled log. */
function seqsInView(viewport: Locator): Promise<number[]> {
	return viewport.evaluate((el) => {
		const box = el.getBoundingClientRect();
		return [...el.querySelectorAll<HTMLElement>('[data-testid="message"]')]
			.filter((row) => {
				const r = row.getBoundingClientRect();
				return r.bottom > box.top && r.top < box.bottom;
			})
			.map((row) => Number(row.dataset.seq));
	});
}
