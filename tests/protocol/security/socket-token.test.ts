/**
 * Tokens out of reach of page scripts, on the real server: the session lives
 * in an HttpOnly, SameSite=Strict cookie; `POST /api/socket-token` trades it
 * (same site only) for a socket token of `SOCKET_TOKEN_TTL_S`, which opens
 * the socket and nothing else, dies with the session, and expires on its own.
 */
import { afterEach, describe, expect, test } from 'vitest';
import { WebSocket } from 'ws';
import { joinRoom, push, startServer, until, type TestServer } from '../chat/harness.js';

let server: TestServer | undefined;
afterEach(async () => {
	await server?.close();
	server = undefined;
});

/** Sign in like a browser: the cookie from `Set-Cookie`. */
async function browserSignIn(s: TestServer, name: string) {
	const res = await fetch(s.url + '/api/session', {
		method: 'POST',
		headers: { 'content-type': 'application/json', origin: s.url },
		body: JSON.stringify({ name, password: `pw-${name}` })
	});
	expect(res.status).toBe(200);
	const setCookie = res.headers.get('set-cookie') ?? '';
	const body = (await res.json()) as { token: string; user: { id: string } };
	return { setCookie, cookie: setCookie.split(';')[0]!, ...body };
}

const socketToken = (s: TestServer, headers: Record<string, string>) => fetch(s.url + '/api/socket-token', { method: 'POST', headers });

/** Open a raw WebSocket the way phoenix.js does with `authToken`; 'open' or the HTTP status. */
function rawConnect(s: TestServer, token: string) {
	return new Promise<string>((resolve) => {
		const protocols = ['phoenix', 'base64url.bearer.phx.' + Buffer.from(token).toString('base64url')];
		const ws = new WebSocket(`${s.wsUrl}/websocket?vsn=2.0.0`, protocols);
		ws.on('open', () => {
			resolve('open');
			ws.close();
		});
		ws.on('unexpected-response', (_req, res) => resolve(`http:${res.statusCode}`));
		ws.on('error', () => resolve('error'));
	});
}

describe('the session cookie', () => {
	test('is HttpOnly and SameSite=Strict, and its token is the one the JSON answer gives non-browser clients', async () => {
		server = await startServer();
		const ann = await browserSignIn(server, 'Ann');
		expect(ann.setCookie).toMatch(/^outbox_token=[A-Za-z0-9._-]+; /);
		expect(ann.setCookie).toMatch(/; HttpOnly/);
		expect(ann.setCookie).toMatch(/; SameSite=Strict/);
		expect(ann.cookie).toBe(`outbox_token=${ann.token}`);
	});
});

describe('POST /api/socket-token', () => {
	test('trades the cookie (same site) for a socket token of SOCKET_TOKEN_TTL_S that opens the socket', async () => {
		server = await startServer({ socketTokenTtlSeconds: 60 });
		const ann = await browserSignIn(server, 'Ann');
		const before = Date.now();
		const res = await socketToken(server, { cookie: ann.cookie, origin: server.url });
		expect(res.status).toBe(200);
		expect(res.headers.get('cache-control')).toBe('no-store');
		const body = (await res.json()) as { token: string; expires_at: string; user: { id: string; name: string } };
		expect(body.user).toEqual(ann.user);
		expect(body.token).toMatch(/^[A-Za-z0-9._-]+$/);
		expect(body.token).not.toBe(ann.token);
		const life = Date.parse(body.expires_at) - before;
		expect(life).toBeGreaterThan(55_000);
		expect(life).toBeLessThanOrEqual(61_000);
		// The socket takes it (authToken, as phoenix.js sends it, and the `token` param).
		expect(await rawConnect(server, body.token)).toBe('open');
		const socket = server.connect('', { authToken: undefined, params: { token: body.token } });
		const channel = await joinRoom(socket, 'lobby');
		expect((await push(channel, 'send_message', { client_id: 'c-sock-1', body: 'hi' })).status).toBe('ok');
		// A Bearer session token works too (non-browser clients); Sec-Fetch-Site stands in for a missing Origin.
		expect((await socketToken(server, { authorization: `Bearer ${ann.token}` })).status).toBe(200);
		expect((await socketToken(server, { cookie: ann.cookie, 'sec-fetch-site': 'same-origin' })).status).toBe(200);
	});

	test('refuses another site (CSRF), no session, and GET', async () => {
		server = await startServer();
		const ann = await browserSignIn(server, 'Ann');
		const foreign = await socketToken(server, { cookie: ann.cookie, origin: 'https://evil.example' });
		expect(foreign.status).toBe(403);
		expect(await foreign.json()).toMatchObject({ reason: 'forbidden' });
		expect((await socketToken(server, { cookie: ann.cookie })).status).toBe(403);
		expect((await socketToken(server, { cookie: ann.cookie, 'sec-fetch-site': 'cross-site' })).status).toBe(403);
		expect((await socketToken(server, { origin: server.url })).status).toBe(401);
		expect((await socketToken(server, { cookie: 'outbox_token=v1.forged.x.9999999999.sig', origin: server.url })).status).toBe(401);
		expect((await fetch(server.url + '/api/socket-token', { headers: { cookie: ann.cookie } })).status).toBe(405);
		// The same rule for every change made by cookie: sign-out and the HTTP batch from another site are refused.
		const del = await fetch(server.url + '/api/session', { method: 'DELETE', headers: { cookie: ann.cookie, origin: 'https://evil.example' } });
		expect(del.status).toBe(403);
		const sync = await fetch(server.url + '/api/sync/events', {
			method: 'POST',
			headers: { cookie: ann.cookie, origin: 'https://evil.example', 'content-type': 'application/json' },
			body: JSON.stringify({ room: 'lobby', actions: [] })
		});
		expect(sync.status).toBe(403);
		// The session survived the forged sign-out.
		expect((await server.api('GET', '/api/session', undefined, ann.token)).status).toBe(200);
	});

	test('a socket token opens no HTTP API (a stolen one is worth a socket for minutes, nothing more)', async () => {
		server = await startServer();
		const ann = await browserSignIn(server, 'Ann');
		const { token } = (await (await socketToken(server, { cookie: ann.cookie, origin: server.url })).json()) as { token: string };
		for (const [method, path] of [
			['GET', '/api/session'],
			['GET', '/api/rooms'],
			['POST', '/api/socket-token'],
			['DELETE', '/api/session']
		] as const) {
			expect((await server.api(method, path, undefined, token)).status, `${method} ${path}`).toBe(401);
		}
		expect((await fetch(server.url + '/api/session', { headers: { cookie: `outbox_token=${token}` } })).status).toBe(401);
	});

	test('expires after SOCKET_TOKEN_TTL_S, while a socket it opened lives on with the session', async () => {
		server = await startServer({ socketTokenTtlSeconds: 1 });
		const ann = await browserSignIn(server, 'Ann');
		const { token } = (await (await socketToken(server, { cookie: ann.cookie, origin: server.url })).json()) as { token: string };
		const socket = server.connect(token);
		const channel = await joinRoom(socket, 'lobby');
		await until(async () => (await rawConnect(server!, token)) === 'http:403', 5000, 'the socket token to expire');
		expect((await push(channel, 'send_message', { client_id: 'c-after-expiry', body: 'still here' })).status).toBe('ok');
	});

	test('sign-out (DELETE /api/session by cookie) revokes the session, every socket token made from it, and closes their sockets', async () => {
		server = await startServer();
		const ann = await browserSignIn(server, 'Ann');
		const { token } = (await (await socketToken(server, { cookie: ann.cookie, origin: server.url })).json()) as { token: string };
		const socket = server.connect(token);
		await joinRoom(socket, 'lobby');
		const closes: number[] = [];
		socket.onClose((event: { code?: number }) => void closes.push(event.code ?? 0));
		const out = await fetch(server.url + '/api/session', { method: 'DELETE', headers: { cookie: ann.cookie, origin: server.url } });
		expect(out.status).toBe(200);
		expect(out.headers.get('set-cookie')).toMatch(/^outbox_token=; .*Max-Age=0/);
		await until(() => closes.includes(1001), 5000, 'the socket to close with 1001');
		socket.disconnect();
		expect(await rawConnect(server, token)).toBe('http:403');
		expect(await rawConnect(server, ann.token)).toBe('http:403');
		expect((await socketToken(server, { cookie: ann.cookie, origin: server.url })).status).toBe(401);
	});
});
