/**
 * The connect side with a bare `ws` client: subprotocol and token, refusals
 * (403 / 500 / 400), origin checks, maxPayload, the idle sweep, kicks by
 * socket key and shutdown — all with the close codes clients rely on.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRaw } from './helpers/raw-client.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';
import { delay, waitFor } from './helpers/wait.js';

let srv: TestServer;
beforeAll(async () => {
	srv = await startTestServer();
});
afterAll(() => srv.close());

const status = (promise: Promise<unknown>) =>
	promise.then(
		() => 'open',
		(err: { status?: number }) => err.status ?? 'error'
	);
const bearer = (token: string) => `base64url.bearer.phx.${Buffer.from(token).toString('base64').replace(/=+$/, '')}`;

describe('upgrade', () => {
	it('selects the phoenix subprotocol and decodes the token from the bearer entry', async () => {
		const c = await openRaw(srv.wsUrl, { protocols: ['phoenix', bearer('tok.en_1')] });
		expect(c.ws.protocol).toBe('phoenix');
		expect(srv.auths.at(-1)!.token).toBe('tok.en_1');
		expect(srv.auths.at(-1)!.params).toEqual({});
		c.close();
	});

	it('accepts the token query param when no bearer subprotocol is sent', async () => {
		const c = await openRaw(`${srv.wsUrl}&token=query-user`);
		expect(c.ws.protocol).toBe('');
		expect(srv.auths.at(-1)!.token).toBe('query-user');
		c.close();
	});

	it('refuses with 403 when authenticate returns null, and 500 when it throws', async () => {
		const opensBefore = srv.opens.length;
		expect(await status(openRaw(srv.wsUrl, { protocols: ['phoenix', bearer('bad')] }))).toBe(403);
		expect(await status(openRaw(srv.wsUrl))).toBe(403); // no token at all
		expect(await status(openRaw(`${srv.wsUrl}&token=throw`))).toBe(500);
		expect(srv.opens.length).toBe(opensBefore);
	});

	it('refuses a foreign Origin with 403, accepts its own origin and a missing one', async () => {
		const url = `${srv.wsUrl}&token=origin`;
		expect(await status(openRaw(url, { headers: { origin: 'http://evil.example' } }))).toBe(403);
		expect(await status(openRaw(url, { headers: { origin: 'null' } }))).toBe(403);
		const own = await openRaw(url, { headers: { origin: `http://127.0.0.1:${srv.port}` } });
		const none = await openRaw(url);
		own.close();
		none.close();
	});

	it('uses checkOrigin when given', async () => {
		const custom = await startTestServer({ checkOrigin: (origin) => origin === 'https://app.example' });
		try {
			const url = `${custom.wsUrl}&token=origin`;
			expect(await status(openRaw(url, { headers: { origin: `http://127.0.0.1:${custom.port}` } }))).toBe(403);
			const allowed = await openRaw(url, { headers: { origin: 'https://app.example' } });
			allowed.close();
		} finally {
			await custom.close();
		}
	});

	it('refuses a serializer version it does not serve (V1 is 1.0.x, V2 is 2.0.x) with 400 and leaves other paths alone', async () => {
		expect(await status(openRaw(`ws://127.0.0.1:${srv.port}/socket/websocket?vsn=3.0.0&token=v3`))).toBe(400);
		const request = { url: '/vite-hmr', headers: {} } as IncomingMessage;
		expect(srv.channels.handleUpgrade(request, {} as Duplex, Buffer.alloc(0))).toBe(false);
	});

	it('closes a socket that sends a frame over maxPayload with 1009, leaving others up', async () => {
		const small = await startTestServer({ maxPayload: 1024 });
		try {
			const bystander = await openRaw(`${small.wsUrl}&token=b`);
			const big = await openRaw(`${small.wsUrl}&token=a`);
			big.send([null, '1', 'phoenix', 'heartbeat', { pad: 'x'.repeat(2000) }]);
			expect((await big.closed).code).toBe(1009);
			bystander.send([null, '2', 'phoenix', 'heartbeat', {}]);
			await bystander.next((f) => f[1] === '2', 'bystander heartbeat');
			bystander.close();
		} finally {
			await small.close();
		}
	});

	it('terminates sockets idle past idleTimeoutMs with one sweep, sparing ones that talk', async () => {
		const idle = await startTestServer({ idleTimeoutMs: 200 });
		try {
			const silent = await openRaw(`${idle.wsUrl}&token=silent`);
			await silent.join('room:idle', '1');
			const chatty = await openRaw(`${idle.wsUrl}&token=chatty`);
			const beat = setInterval(() => chatty.send([null, 'hb', 'phoenix', 'heartbeat', {}]), 40);
			try {
				const closed = await silent.closed;
				expect(closed.code).toBe(1006); // terminated: a silent peer gets no handshake
				expect(idle.log).toContainEqual({ type: 'terminate', topic: 'room:idle', joinRef: '1', reason: 'closed' });
				await delay(300);
				expect(chatty.ws.readyState).toBe(chatty.ws.OPEN);
			} finally {
				clearInterval(beat);
				chatty.close();
			}
		} finally {
			await idle.close();
		}
	});

	it('disconnect(socketKey) closes every socket of that key with 1001 and no other', async () => {
		const a1 = await openRaw(`${srv.wsUrl}&token=kick-a`);
		const a2 = await openRaw(`${srv.wsUrl}&token=kick-a`);
		const b = await openRaw(`${srv.wsUrl}&token=kick-b`);
		await a1.join('room:kicked', '1');
		srv.channels.disconnect('user:kick-a');
		expect(await Promise.all([a1.closed, a2.closed])).toEqual([
			{ code: 1001, reason: 'disconnect' },
			{ code: 1001, reason: 'disconnect' }
		]);
		expect(srv.log).toContainEqual({ type: 'terminate', topic: 'room:kicked', joinRef: '1', reason: 'kicked' });
		b.send([null, 'b1', 'phoenix', 'heartbeat', {}]);
		await b.next((f) => f[1] === 'b1', 'b still up');
		b.close();
	});

	it('close() closes every socket with 1001 and refuses new upgrades', async () => {
		const doomed = await startTestServer();
		const c = await openRaw(`${doomed.wsUrl}&token=x`);
		await waitFor(() => doomed.channels.connectionCount === 1, 'counted');
		const closing = doomed.channels.close();
		expect((await c.closed).code).toBe(1001);
		await closing;
		expect(doomed.channels.connectionCount).toBe(0);
		expect(await status(openRaw(`${doomed.wsUrl}&token=y`))).toBe(503);
		await doomed.close();
	});
});
