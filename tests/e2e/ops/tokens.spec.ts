/**
 * Tokens out of reach of page scripts, in Chromium against the built app:
 * the session is an HttpOnly cookie page scripts cannot read, localStorage
 * holds no token, the kit's socket tokens (5 s here) are fetched again when
 * a reconnect comes after they expired — a long offline queue is then
 * delivered once each, in order — and signing out revokes the session and
 * its socket tokens.
 */
import { WebSocket } from 'ws';
import { createAppServer, type AppServer } from '../fixtures/app-server.js';
import { expect, expectConnected, goOffline, goOnline, rows, sendMessage, sentRows, serverMessages, signInUI, test as base } from '../scenarios/helpers.js';

/** The app with socket tokens of 5 seconds. */
const test = base.extend<{ shortTokens: AppServer }>({
	// eslint-disable-next-line no-empty-pattern
	shortTokens: async ({}, use) => {
		const app = await createAppServer({ SOCKET_TOKEN_TTL_S: '5' });
		try {
			await use(app);
		} finally {
			await app.dispose();
		}
	}
});

/** Open the socket from Node with `token` as phoenix.js does; 'open' or the HTTP status of the refusal. */
function tryToken(app: AppServer, token: string): Promise<string> {
	return new Promise((resolve) => {
		const url = app.url.replace(/^http/, 'ws') + '/socket/websocket?vsn=2.0.0';
		const ws = new WebSocket(url, ['phoenix', 'base64url.bearer.phx.' + Buffer.from(token).toString('base64url')]);
		ws.on('open', () => {
			resolve('open');
			ws.close();
		});
		ws.on('unexpected-response', (_req, res) => resolve(`http:${res.statusCode}`));
		ws.on('error', () => resolve('error'));
	});
}

test('page scripts can read no long-lived credential: the cookie is HttpOnly and SameSite=Strict, localStorage holds no token', async ({ app, page, context }) => {
	const session = await signInUI(page, app, 'ann');
	await expectConnected(page);
	expect(session.token).toBeTruthy();
	const cookies = await context.cookies(app.url);
	const sessionCookie = cookies.find((c) => c.name === 'outbox_token');
	expect(sessionCookie, 'the server set the session cookie').toBeDefined();
	expect(sessionCookie).toMatchObject({ value: session.token, httpOnly: true, sameSite: 'Strict' });

	const seen = await page.evaluate(() => ({
		cookie: document.cookie,
		storage: Object.keys(localStorage).map((key) => [key, localStorage.getItem(key) ?? ''] as const),
		session: sessionStorage.length
	}));
	expect(seen.cookie).not.toContain('outbox_token');
	expect(seen.cookie).not.toContain(session.token!);
	expect(JSON.parse(seen.storage.find(([key]) => key === 'outbox:session')?.[1] ?? 'null')).toEqual({ user: session.user });
	for (const [key, value] of seen.storage) {
		expect(value, `localStorage ${key}`).not.toContain(session.token!);
		expect(value, `localStorage ${key}`).not.toMatch(/\b[vs]1\.[a-z0-9]+\./);
	}
	expect(seen.session).toBe(0);
	// After a reload too (the page signs in again from the cookie, not from something it stored).
	await page.reload();
	await expectConnected(page);
	expect(await page.evaluate(() => document.cookie)).not.toContain('outbox_token');
});

test('socket tokens of 5 s: a reconnect after a long offline spell (server gone too) fetches a fresh one; a long queue is delivered once each, in order', async ({ shortTokens: app, page, context }) => {
	test.setTimeout(120_000);
	const tokenCalls: Array<{ at: number; status: number }> = [];
	page.on('response', (response) => {
		if (new URL(response.url()).pathname === '/api/socket-token') tokenCalls.push({ at: Date.now(), status: response.status() });
	});
	const sockets: number[] = [];
	page.on('websocket', () => void sockets.push(Date.now()));
	await signInUI(page, app, 'ann');
	await expectConnected(page);
	expect(tokenCalls.length, 'the kit fetched a socket token to connect').toBeGreaterThan(0);

	// Offline, and the socket really goes (Chromium's offline mode keeps an open WebSocket): the server stops.
	await goOffline(context, page);
	await app.stop();
	const offlineAt = Date.now();
	const bodies = Array.from({ length: 25 }, (_, i) => `queued while offline ${i + 1}`);
	const ids: string[] = [];
	for (const body of bodies) ids.push(await sendMessage(page, body));
	expect((await rows(page)).filter((r) => r.status === 'pending')).toHaveLength(bodies.length);
	// Two lifetimes pass offline: every token the page held has expired.
	await expect.poll(() => Date.now() - offlineAt, { timeout: 30_000, intervals: [500] }).toBeGreaterThan(11_000);

	await app.start();
	const onlineAt = Date.now();
	await goOnline(context);
	await expect
		.poll(async () => (await rows(page)).filter((r) => r.status === 'sent').length, { timeout: 30_000, message: 'all 25 delivered' })
		.toBe(bodies.length);
	await expectConnected(page);
	expect(tokenCalls.some((c) => c.at >= onlineAt && c.status === 200), 'a fresh socket token after coming back').toBe(true);
	expect(sockets.filter((at) => at >= onlineAt).length, 'a new socket after coming back').toBeGreaterThan(0);

	const messages = await serverMessages(app);
	// Nothing lost, nothing twice, in the order sent.
	expect(messages.map((m) => [m.client_id, m.body])).toEqual(bodies.map((body, i) => [ids[i], body]));
	expect(await rows(page)).toEqual(sentRows(messages));

	// Still connected past several lifetimes: the kit refreshes before expiry, and the open socket lives on.
	const later = await sendMessage(page, 'after the reconnect');
	await expect.poll(async () => (await rows(page)).find((r) => r.clientId === later)?.status, { timeout: 15_000 }).toBe('sent');
	expect((await serverMessages(app)).filter((m) => m.client_id === later)).toHaveLength(1);
});

test('sign-out revokes the session cookie and every socket token made from it', async ({ app, page, context }) => {
	const socketTokens: string[] = [];
	page.on('response', async (response) => {
		if (new URL(response.url()).pathname !== '/api/socket-token' || response.status() !== 200) return;
		const body = (await response.json().catch(() => null)) as { token?: string } | null;
		if (body?.token) socketTokens.push(body.token);
	});
	const session = await signInUI(page, app, 'ann');
	await expectConnected(page);
	await expect.poll(() => socketTokens.length).toBeGreaterThan(0);
	const socketToken = socketTokens.at(-1)!;
	expect(await tryToken(app, socketToken)).toBe('open');
	const cookie = (await context.cookies(app.url)).find((c) => c.name === 'outbox_token')!;

	await page.getByTestId('signout').click();
	await expect(page.getByTestId('signin-name')).toBeVisible();
	await expect.poll(() => tryToken(app, socketToken), { timeout: 10_000, message: 'the socket token is revoked' }).toBe('http:403');
	expect(await tryToken(app, session.token!)).toBe('http:403');
	const headers = { cookie: `outbox_token=${cookie.value}`, origin: app.url };
	expect((await fetch(app.url + '/api/socket-token', { method: 'POST', headers })).status).toBe(401);
	expect((await fetch(app.url + '/api/session', { headers })).status).toBe(401);
	// The browser dropped the cookie as well.
	expect((await context.cookies(app.url)).find((c) => c.name === 'outbox_token')).toBeUndefined();
});
