/**
 * Accounts and tokens: sign-in creates then checks, tokens expire and can be
 * revoked, and a refused token is refused at the upgrade (403) while a
 * revoked one's open sockets are closed with 1001.
 */
import { afterEach, describe, expect, test } from 'vitest';
import { WebSocket } from 'ws';
import { cid, join, joinRoom, push, startServer, until, type TestServer } from './harness.js';

let server: TestServer | undefined;
afterEach(async () => {
	await server?.close();
	server = undefined;
});

/** Open a raw WebSocket the way phoenix.js does with `authToken`; resolves 'open' or the HTTP status. */
function rawConnect(s: TestServer, token: string | null, extra: { origin?: string; query?: string } = {}) {
	return new Promise<{ result: string; ws: WebSocket }>((resolve) => {
		const protocols = token === null ? [] : ['phoenix', 'base64url.bearer.phx.' + Buffer.from(token).toString('base64').replace(/=+$/, '')];
		const ws = new WebSocket(`${s.wsUrl}/websocket?vsn=2.0.0${extra.query ?? ''}`, protocols, extra.origin ? { origin: extra.origin } : {});
		ws.on('open', () => resolve({ result: `open:${ws.protocol}`, ws }));
		ws.on('unexpected-response', (_req, res) => resolve({ result: `http:${res.statusCode}`, ws }));
		ws.on('error', () => resolve({ result: 'error', ws }));
	});
}

describe('POST /api/session', () => {
	test('the first sign-in creates the account; later ones must match the password', async () => {
		server = await startServer();
		const first = await server.api('POST', '/api/session', { name: 'Dana', password: 'secret-1' });
		expect(first.status).toBe(200);
		expect(first.body.user.name).toBe('Dana');
		expect(first.body.user.id).toMatch(/^[a-z0-9]{1,16}$/);
		expect(first.body.token).toMatch(/^[A-Za-z0-9._-]+$/);

		const again = await server.api('POST', '/api/session', { name: 'Dana', password: 'secret-1' });
		expect(again.status).toBe(200);
		expect(again.body.user).toEqual(first.body.user);
		expect(again.body.token).not.toBe(first.body.token);

		const otherCase = await server.api('POST', '/api/session', { name: '  dana ', password: 'secret-1' });
		expect(otherCase.body.user.id).toBe(first.body.user.id);

		const wrong = await server.api('POST', '/api/session', { name: 'Dana', password: 'nope' });
		expect(wrong).toEqual({ status: 401, body: { reason: 'unauthorized', message: 'wrong name or password' } });
	});

	test('the password is stored as a scrypt hash, never in clear', async () => {
		server = await startServer();
		await server.signIn('Erin', 'hunter2-hunter2');
		const stored = await server.outbox.store.findUserByName('erin');
		expect(stored?.passwordHash).toMatch(/^scrypt\$/);
		expect(stored?.passwordHash).not.toContain('hunter2');
	});

	test.each([
		[{ name: '', password: 'x' }],
		[{ name: 'x'.repeat(33), password: 'x' }],
		[{ name: 'ok', password: '' }],
		[{ name: 'ok' }],
		[{ name: 'ok', password: 'x', admin: true }],
		['not an object']
	])('a bad body is 400 invalid: %j', async (body) => {
		server = await startServer();
		const res = await server.api('POST', '/api/session', body);
		expect(res.status).toBe(400);
		expect(res.body.reason).toBe('invalid');
	});

	test('the reply is exactly {token, user: {id, name}}', async () => {
		server = await startServer();
		const res = await server.api('POST', '/api/session', { name: 'Exact', password: 'pw' });
		expect(res).toEqual({ status: 200, body: { token: expect.any(String), user: { id: expect.any(String), name: 'Exact' } } });
	});

	test('wrong passwords are rate limited per name; right ones and other names are not held up', async () => {
		server = await startServer({}, { signInLimits: { perName: 3, perAddress: 100 } });
		// Many good sign-ins in a row are never limited.
		for (let i = 0; i < 8; i++) expect((await server.api('POST', '/api/session', { name: 'Fay', password: 'right' })).status).toBe(200);
		const statuses = [];
		for (let i = 0; i < 5; i++) statuses.push((await server.api('POST', '/api/session', { name: 'Fay', password: 'wrong' })).status);
		expect(statuses).toEqual([401, 401, 401, 429, 429]);
		const limited = await server.api('POST', '/api/session', { name: ' FAY ', password: 'right' });
		expect(limited).toMatchObject({ status: 429, body: { reason: 'rate_limited' } });
		// Another name is not held up by Fay's limit.
		expect((await server.api('POST', '/api/session', { name: 'Gus', password: 'x' })).status).toBe(200);
	});

	test('wrong passwords are rate limited per address; new accounts and right passwords are not', async () => {
		server = await startServer({}, { signInLimits: { perName: 100, perAddress: 3 } });
		for (let i = 0; i < 80; i++) expect((await server.api('POST', '/api/session', { name: `new${i}`, password: 'x' })).status).toBe(200);
		const statuses = [];
		for (const name of ['new1', 'new2', 'new3', 'new4']) statuses.push((await server.api('POST', '/api/session', { name, password: 'bad' })).status);
		expect(statuses).toEqual([401, 401, 401, 429]);
		expect((await server.api('POST', '/api/session', { name: 'new5', password: 'x' })).status).toBe(429);
	});
});

describe('GET and DELETE /api/session', () => {
	test('GET answers the user while signed in and 401 without, with a bad or a revoked token', async () => {
		server = await startServer();
		const { token, user } = await server.signIn('Ida');
		expect(await server.api('GET', '/api/session', undefined, token)).toMatchObject({ status: 200, body: { user } });
		expect((await server.api('GET', '/api/session')).status).toBe(401);
		expect((await server.api('GET', '/api/session', undefined, token + 'x')).status).toBe(401);
		expect((await server.api('DELETE', '/api/session', undefined, token)).status).toBe(200);
		expect(await server.api('GET', '/api/session', undefined, token)).toEqual({
			status: 401,
			body: { reason: 'unauthorized', message: 'not signed in' }
		});
	});

	test('DELETE closes that user\'s sockets with 1001 and the token is then refused with 403', async () => {
		server = await startServer();
		const { token } = await server.signIn('Jon');
		const other = await server.signIn('Kim');
		const mine = await rawConnect(server, token);
		const theirs = await rawConnect(server, other.token);
		expect(mine.result).toBe('open:phoenix');
		const closed = new Promise<number>((resolve) => mine.ws.on('close', (code) => resolve(code)));
		let theirsClosed = false;
		theirs.ws.on('close', () => (theirsClosed = true));

		expect((await server.api('DELETE', '/api/session', undefined, token)).status).toBe(200);
		expect(await closed).toBe(1001);
		expect((await rawConnect(server, token)).result).toBe('http:403');
		await new Promise((r) => setTimeout(r, 100));
		expect(theirsClosed).toBe(false);
		theirs.ws.close();
	});

	test('the official client, revoked, is refused on reconnect and told so through onError', async () => {
		server = await startServer();
		const { token } = await server.signIn('Lea');
		const socket = server.connect(token);
		const errors: unknown[] = [];
		const closes: number[] = [];
		socket.onClose((event: any) => void closes.push(event.code));
		await joinRoom(socket, 'lobby');
		socket.onError((e) => void errors.push(e));
		await server.api('DELETE', '/api/session', undefined, token);
		await until(() => closes.includes(1001), 3000, 'close 1001');
		await until(() => errors.length > 0 && closes.includes(1006), 3000, 'refused reconnect');
		expect(socket.isConnected()).toBe(false);
	});
});

describe('tokens', () => {
	test('an expired token is refused at the upgrade, by GET /api/session, and on joins and pushes', async () => {
		let now = Date.now();
		server = await startServer({ tokenTtlSeconds: 60 }, { now: () => now });
		const { token } = await server.signIn('Max');
		const socket = server.connect(token);
		const channel = await joinRoom(socket, 'expiry');
		expect((await push(channel, 'send_message', { client_id: cid(), body: 'before' })).status).toBe('ok');

		now += 61_000;
		expect(await push(channel, 'send_message', { client_id: cid(), body: 'after' })).toEqual({
			status: 'error',
			response: { reason: 'unauthorized', message: 'session expired' }
		});
		const late = socket.channel('room:expiry-2');
		expect(await join(late)).toEqual({ status: 'error', response: { reason: 'unauthorized' } });
		late.leave();
		expect((await rawConnect(server, token)).result).toBe('http:403');
	});

	test('the `token` connect param works as well as the subprotocol', async () => {
		server = await startServer();
		const { token } = await server.signIn('Ned');
		const viaParam = await rawConnect(server, null, { query: `&token=${token}` });
		expect(viaParam.result).toBe('open:');
		viaParam.ws.close();
		expect((await rawConnect(server, null, { query: '&token=bogus' })).result).toBe('http:403');
		expect((await rawConnect(server, null)).result).toBe('http:403');
	});

	test('a tampered or foreign-secret token is refused', async () => {
		server = await startServer();
		const { token } = await server.signIn('Ola');
		const parts = token.split('.');
		parts[1] = 'someoneelse';
		expect((await rawConnect(server, parts.join('.'))).result).toBe('http:403');
		const other = await startServer();
		try {
			const foreign = await other.signIn('Ola');
			expect((await rawConnect(server, foreign.token)).result).toBe('http:403');
		} finally {
			await other.close();
		}
	});

	test('tokens survive a restart on the same data dir (the secret is kept in DATA_DIR)', async () => {
		server = await startServer();
		const { token } = await server.signIn('Pia');
		const again = await startServer({ dataDir: server.dataDir });
		try {
			expect((await again.api('GET', '/api/session', undefined, token)).status).toBe(200);
		} finally {
			await again.close();
		}
	});
});

describe('origin', () => {
	test('a browser upgrade from a foreign origin is refused unless listed in ALLOWED_ORIGINS', async () => {
		server = await startServer({ allowedOrigins: ['https://app.example'] });
		const { token } = await server.signIn('Quinn');
		const own = new URL(server.url).origin;
		expect((await rawConnect(server, token, { origin: 'https://evil.example' })).result).toBe('http:403');
		const same = await rawConnect(server, token, { origin: own });
		expect(same.result).toBe('open:phoenix');
		same.ws.close();
		const listed = await rawConnect(server, token, { origin: 'https://app.example' });
		expect(listed.result).toBe('open:phoenix');
		listed.ws.close();
	});
});
