/**
 * Scenario 13 (issue 10): attachments that survive being offline.
 * - Offline, an image and a PDF go with two messages; a reload; online: each
 *   file is uploaded once, both messages reach the server in order with
 *   their files, and another user's screen shows them (the image loads).
 * - A 12 MiB file is refused when attached, saying why; a text file named
 *   `.png` is refused by the server and its message fails with the reason,
 *   offering Retry and Discard.
 * - A file sent in a DM cannot be fetched by a third user (404).
 */
import type { Page } from '@playwright/test';
import { createPeer, signIn } from '../fixtures/peer.js';
import { expect, expectConnected, goOffline, goOnline, row, rows, screenshot, signInUI, test } from './helpers.js';

/** A real 8×8 PNG (decodes in the browser). */
const PNG = Buffer.from(
	'iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAAEklEQVR4nGP4z8CAFWEXHbQSACj/P8Fu7N9hAAAAAElFTkSuQmCC',
	'base64'
);
const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');

/** Attach files through the paperclip input, type `body`, press Send; the new row's client id. */
async function sendWithFiles(page: Page, body: string, files: Array<{ name: string; mimeType: string; buffer: Buffer }>): Promise<string> {
	const before = new Set((await rows(page)).map((r) => r.clientId));
	await page.getByTestId('attach-input').setInputFiles(files);
	await expect(page.getByTestId('attached-file')).toHaveCount(files.length);
	await page.getByTestId('composer-input').fill(body);
	await page.getByTestId('send-button').click();
	let id: string | null = null;
	await expect
		.poll(async () => {
			id = (await rows(page)).find((r) => r.body === body && r.clientId !== null && !before.has(r.clientId))?.clientId ?? null;
			return id;
		}, { message: `a new row for "${body}"` })
		.not.toBeNull();
	await expect(page.getByTestId('attached-file')).toHaveCount(0);
	return id!;
}

const statuses = (page: Page, clientId: string) =>
	row(page, clientId)
		.getByTestId('attachment')
		.evaluateAll((els) => els.map((el) => [el.getAttribute('data-name'), el.getAttribute('data-status')]));

test('offline files queue with their messages, survive a reload, upload once and show on another screen in order', async ({ app, page, context, browser }) => {
	await signInUI(page, app, 'ann');
	await expectConnected(page);
	await expect
		.poll(() => page.evaluate(async () => !!(await navigator.serviceWorker?.getRegistration())?.active), { timeout: 10_000, message: 'an active service worker' })
		.toBe(true);
	const posts: string[] = [];
	page.on('request', (request) => {
		if (request.method() === 'POST' && new URL(request.url()).pathname === '/api/uploads') posts.push(request.headers()['x-upload-id'] ?? '');
	});

	await goOffline(context, page);
	const photo = await sendWithFiles(page, 'a photo', [{ name: 'photo.png', mimeType: 'image/png', buffer: PNG }]);
	const doc = await sendWithFiles(page, 'a document', [{ name: 'doc.pdf', mimeType: 'application/pdf', buffer: PDF }]);
	expect(await statuses(page, photo)).toEqual([['photo.png', 'pending']]);
	expect(await statuses(page, doc)).toEqual([['doc.pdf', 'pending']]);
	// The image shows at once, from the local copy.
	const thumb = row(page, photo).locator('[data-testid="attachment"] img');
	await expect(thumb).toHaveAttribute('src', /^blob:/);
	await expect.poll(() => thumb.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(8);
	// Sync details: the two wait, the oldest for some seconds.
	await page.getByTestId('sync-details').locator('summary').click();
	await expect(page.getByTestId('sync-unsent')).toHaveText('2');
	await expect(page.getByTestId('sync-oldest')).toContainText(/\d+ s ago/);
	await expect(page.getByTestId('sync-failure-rate')).toHaveText('no sends yet');
	await screenshot(page, 'scenario-13-offline');

	await page.reload();
	await expect(page.getByTestId('composer-input')).toBeVisible();
	await expect(page.getByTestId('connection-banner')).toContainText(/offline/i);
	await expect.poll(() => statuses(page, photo), { message: 'the photo still queued after the reload' }).toEqual([['photo.png', 'pending']]);
	expect(await statuses(page, doc)).toEqual([['doc.pdf', 'pending']]);
	await expect(row(page, photo).locator('[data-testid="attachment"] img')).toHaveAttribute('src', /^blob:/);
	expect(posts).toEqual([]);

	await goOnline(context);
	await expect
		.poll(async () => (await rows(page)).map((r) => [r.clientId, r.status]), { timeout: 20_000, message: 'both sent' })
		.toEqual([
			[photo, 'sent'],
			[doc, 'sent']
		]);
	await expect.poll(() => statuses(page, photo)).toEqual([['photo.png', 'sent']]);
	await expect.poll(() => statuses(page, doc)).toEqual([['doc.pdf', 'sent']]);
	// One upload each, under the ids derived from the messages.
	expect(posts).toEqual([`${photo}.0`, `${doc}.0`]);
	await page.getByTestId('sync-details').locator('summary').click();
	await expect(page.getByTestId('sync-unsent')).toHaveText('0');
	await expect(page.getByTestId('sync-oldest')).toHaveText('none waiting');
	await expect(page.getByTestId('sync-last-flush')).toContainText('2 sent');
	await expect(page.getByTestId('sync-failure-rate')).toHaveText('0 %');

	// What the server holds, in order, each with its file.
	const peer = await createPeer(app.url, 'bob');
	try {
		const messages = await peer.messages('lobby');
		expect(messages.map((m) => [m.client_id, m.body, m.attachments.map((a: { name: string; type: string; size: number }) => [a.name, a.type, a.size])])).toEqual([
			[photo, 'a photo', [['photo.png', 'image/png', PNG.length]]],
			[doc, 'a document', [['doc.pdf', 'application/pdf', PDF.length]]]
		]);
	} finally {
		peer.close();
	}

	// Bob's screen: both messages in order, the image loaded from the server, the PDF as a chip linking to it.
	const bobContext = await browser.newContext();
	try {
		const bob = await bobContext.newPage();
		await signInUI(bob, app, 'bob');
		await expect
			.poll(async () => (await rows(bob)).map((r) => [r.clientId, r.body, r.status]), { timeout: 10_000 })
			.toEqual([
				[photo, 'a photo', 'sent'],
				[doc, 'a document', 'sent']
			]);
		const image = row(bob, photo).locator('[data-testid="attachment"] img');
		await expect(image).toHaveAttribute('src', /^\/api\/uploads\//);
		await expect.poll(() => image.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(8);
		await expect(row(bob, doc).getByRole('link', { name: /doc\.pdf/ })).toHaveAttribute('href', /^\/api\/uploads\//);
		// The image opens full size, and closes with Escape.
		await image.click();
		const viewer = bob.getByRole('dialog', { name: 'photo.png' });
		await expect(viewer).toBeVisible();
		await bob.keyboard.press('Escape');
		await expect(viewer).toBeHidden();
		await screenshot(bob, 'scenario-13-other-user');
	} finally {
		await bobContext.close();
	}
});

test('a file over 10 MiB is refused when dropped; a pasted image can be removed; a text file named .png fails its message with the reason; a slow upload shows its progress', async ({ app, page }) => {
	await signInUI(page, app, 'ann');
	await expectConnected(page);

	// Dropped on the composer (a 12 MiB file made in the page).
	await page.getByTestId('composer-input').evaluate((input) => {
		const data = new DataTransfer();
		data.items.add(new File([new Uint8Array(12 * 1024 * 1024)], 'huge.pdf', { type: 'application/pdf' }));
		input.closest('form')!.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
	});
	await expect(page.getByRole('alert').filter({ hasText: 'huge.pdf' })).toContainText('"huge.pdf" is 12.0 MB: a file may be at most 10.0 MB');
	await expect(page.getByTestId('attached-file')).toHaveCount(0);
	await expect(page.getByTestId('send-button')).toBeDisabled();

	// A pasted image is attached too, and can be removed before sending.
	await page.getByTestId('composer-input').evaluate((input, bytes) => {
		const data = new DataTransfer();
		data.items.add(new File([new Uint8Array(bytes)], 'pasted.png', { type: 'image/png' }));
		input.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
	}, [...PNG]);
	await expect(page.getByTestId('attached-file')).toHaveText(['pasted.png']);
	await expect(page.getByTestId('attach-error')).toHaveCount(0);
	await page.getByRole('button', { name: 'Remove pasted.png' }).click();
	await expect(page.getByTestId('attached-file')).toHaveCount(0);

	const liar = await sendWithFiles(page, 'not really a picture', [{ name: 'fake.png', mimeType: 'image/png', buffer: Buffer.from('just some text, not a PNG\n') }]);
	await expect(row(page, liar)).toHaveAttribute('data-status', 'failed', { timeout: 15_000 });
	await expect(row(page, liar).getByTestId('message-error')).toContainText('not image/png');
	expect(await statuses(page, liar)).toEqual([['fake.png', 'failed']]);
	await expect(row(page, liar).getByTestId('retry-button')).toBeVisible();
	await screenshot(page, 'scenario-13-refused');
	await row(page, liar).getByTestId('discard-button').click();
	await expect(row(page, liar)).toHaveCount(0);

	// On a slow uplink the file shows its upload progress, then sent.
	const cdp = await page.context().newCDPSession(page);
	await cdp.send('Network.enable');
	await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 256 * 1024 });
	const big = Buffer.alloc(1024 * 1024, 0x20);
	PDF.copy(big);
	const slow = await sendWithFiles(page, 'a big document', [{ name: 'big.pdf', mimeType: 'application/pdf', buffer: big }]);
	const file = row(page, slow).getByTestId('attachment');
	await expect(file).toHaveAttribute('data-status', 'uploading', { timeout: 10_000 });
	await expect(file.getByRole('progressbar', { name: 'Uploading big.pdf' })).toBeVisible();
	await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
	await expect(file).toHaveAttribute('data-status', 'sent', { timeout: 20_000 });
	await expect(row(page, slow)).toHaveAttribute('data-status', 'sent');
});

test("another user cannot fetch a DM's file by id", async ({ app, page, browser }) => {
	const bob = await signIn(app.url, 'bob');
	const { user: ann } = await signInUI(page, app, 'ann');
	const slug = ann!.id < bob.user.id ? `dm-${ann!.id}-${bob.user.id}` : `dm-${bob.user.id}-${ann!.id}`;
	await page.goto(`${app.url}/rooms/${slug}`);
	await expectConnected(page);
	const id = await sendWithFiles(page, 'for bob only', [{ name: 'secret.png', mimeType: 'image/png', buffer: PNG }]);
	await expect(row(page, id)).toHaveAttribute('data-status', 'sent', { timeout: 15_000 });
	await expect.poll(() => statuses(page, id)).toEqual([['secret.png', 'sent']]);
	const src = await row(page, id).locator('[data-testid="attachment"] img').getAttribute('src');
	const peer = await createPeer(app.url, 'bob');
	let uploadId: string;
	try {
		const [message] = await peer.messages(slug);
		uploadId = message.attachments[0].id;
	} finally {
		peer.close();
	}
	// Bob (a member) gets it; Carol gets 404, with her cookie or her Bearer token.
	const bobGet = await fetch(`${app.url}/api/uploads/${uploadId}`, { headers: { authorization: `Bearer ${bob.token}` } });
	expect(bobGet.status).toBe(200);
	const carolContext = await browser.newContext();
	try {
		const carol = await carolContext.newPage();
		const session = await signInUI(carol, app, 'carol');
		const status = await carol.evaluate(async (path) => (await fetch(path, { credentials: 'same-origin' })).status, `/api/uploads/${uploadId}`);
		expect(status).toBe(404);
		const byToken = await fetch(`${app.url}/api/uploads/${uploadId}`, { headers: { authorization: `Bearer ${session.token}` } });
		expect(byToken.status).toBe(404);
	} finally {
		await carolContext.close();
	}
	void src;
});
