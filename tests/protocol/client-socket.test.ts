/**
 * Socket-level behaviour with the unmodified official client, 1.8.16 and
 * 1.8.12 (PROTOCOL.md §7 items 1–3, 10, 11, 22, 23, 27, 28, and kicks).
 */
import type { Socket as NetSocket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CLIENTS, joinOutcome, makeSocket, pushOutcome } from './helpers/clients.js';
import { startTcpProxy } from './helpers/tcp-proxy.js';
import { is, startTestServer, type TestServer } from './helpers/test-server.js';
import { delay, waitFor } from './helpers/wait.js';

let srv: TestServer;
const sockets: Array<{ disconnect(): void }> = [];

beforeAll(async () => {
	srv = await startTestServer();
});
afterAll(() => srv.close());
afterEach(() => {
	for (const socket of sockets.splice(0)) socket.disconnect();
});

/** Write a WebSocket close frame with `code` straight onto the server's TCP socket, then end it. */
function closeFromServer(tcp: NetSocket, code: number): void {
	tcp.end(Buffer.from([0x88, 0x02, code >> 8, code & 0xff]));
}

describe.each(CLIENTS)('official client $version', (client) => {
	const open = (options: Record<string, unknown> = {}, endpoint = srv.endpoint) => {
		const socket = makeSocket(client, endpoint, options);
		sockets.push(socket);
		return socket;
	};
	const user = (name: string) => `${name}-${client.version}`;

	it('connects to /socket/websocket with the params and vsn, re-reading a params function on reconnect', async () => {
		let n = 0;
		const name = user('params');
		const socket = open({ params: () => ({ user: name, n: n++ }) });
		socket.connect();
		const first = await waitFor(() => srv.auths.find((a) => a.params.user === name), 'first connect');
		expect(first.url).toBe(`/socket/websocket?user=${name}&n=0&vsn=2.0.0`);
		expect(first.params).toEqual({ user: name, n: '0' });
		expect(first.token).toBeNull();
		await waitFor(() => socket.isConnected(), 'open');
		srv.upgrades.at(-1)!.destroy();
		const second = await waitFor(() => srv.auths.find((a) => a.params.user === name && a.params.n !== '0'), 'reconnect');
		expect(second.params.n).toBe('1');
	});

	it('sends authToken as the phoenix,base64url.bearer.phx.<base64> subprotocols and gets phoenix selected', async () => {
		const socket = open({ authToken: 's3cr3t' });
		const opened = new Promise<void>((resolve) => socket.onOpen(() => resolve()));
		socket.connect();
		await opened;
		const auth = srv.auths.findLast((a) => a.token === 's3cr3t')!;
		expect(auth.protocols).toBe('phoenix,base64url.bearer.phx.czNjcjN0');
		expect(socket.connectionState()).toBe('open');
	});

	it('treats a 403 upgrade as an error plus a 1006 close, and keeps retrying', async () => {
		const socket = open({ authToken: 'bad' });
		const closeCodes: number[] = [];
		const states: string[] = [];
		let errors = 0;
		socket.onError(() => { errors++; });
		socket.onClose((event: { code: number }) => {
			closeCodes.push(event.code);
			states.push(socket.connectionState());
		});
		const before = srv.auths.filter((a) => a.token === 'bad').length;
		socket.connect();
		await waitFor(() => srv.auths.filter((a) => a.token === 'bad').length >= before + 3, 'three refused attempts');
		socket.disconnect();
		expect(errors).toBeGreaterThanOrEqual(1);
		expect(closeCodes[0]).toBe(1006);
		expect(states[0]).toBe('closed');
	});

	it('answers heartbeats on the phoenix topic with a null join_ref, and the client keeps beating', async () => {
		const socket = open({ authToken: user('hb') });
		socket.connect();
		const from = srv.frames.length;
		const beat = await srv.waitFrame('in', is('phoenix', 'heartbeat'), 'heartbeat', from);
		expect(beat).toEqual([null, expect.any(String), 'phoenix', 'heartbeat', {}]);
		const reply = await srv.waitFrame('out', (f) => f[1] === beat[1] && f[2] === 'phoenix', 'heartbeat reply', from);
		expect(reply).toEqual([null, beat[1], 'phoenix', 'phx_reply', { status: 'ok', response: {} }]);
		const next = await srv.waitFrame('in', (f) => is('phoenix', 'heartbeat')(f) && f[1] !== beat[1], 'second beat', from);
		expect(next[1]).not.toBe(beat[1]);
	});

	it('recovers from missed heartbeat replies: client closes with 1000 "heartbeat timeout", reconnects, rejoins', async () => {
		const proxy = await startTcpProxy(srv.port);
		try {
			const socket = open({ authToken: user('missed') }, `ws://127.0.0.1:${proxy.port}/socket`);
			socket.connect();
			const topic = `room:missed-${client.version}`;
			const channel = socket.channel(topic);
			expect((await joinOutcome(channel)).status).toBe('ok');
			const errors: unknown[] = [];
			channel.onError((reason: unknown) => { errors.push(reason); });
			const firstJoin = srv.textFrames('in', is(topic, 'phx_join'))[0]!;
			const closesBefore = srv.closes.length;
			proxy.muteServerSide();
			await waitFor(() => errors.length > 0, 'channel error');
			expect(errors[0]).toEqual({ source: 'transport', reason: 'heartbeat_timeout' });
			const closed = await waitFor(() => srv.closes.slice(closesBefore).find((c) => c.code === 1000), 'server sees close');
			expect(closed.reason).toBe('heartbeat timeout');
			const rejoin = await srv.waitFrame('in', (f) => is(topic, 'phx_join')(f) && f[0] !== firstJoin[0], 'rejoin');
			expect(rejoin[0]).toBe(rejoin[1]);
			await waitFor(() => channel.state === 'joined', 'joined again');
		} finally {
			await proxy.close();
		}
	});

	it('rejoins with a new join_ref and fresh params after the server kills the TCP connection, then sends pushes buffered meanwhile', async () => {
		const socket = open({ authToken: user('killed') });
		socket.connect();
		const topic = `room:killed-${client.version}`;
		let n = 0;
		const channel = socket.channel(topic, () => ({ n: n++ }));
		expect((await joinOutcome(channel)).status).toBe('ok');
		const [jr1] = srv.textFrames('in', is(topic, 'phx_join'))[0]!;
		let errored = false;
		channel.onError(() => { errored = true; });
		srv.upgrades.at(-1)!.destroy();
		await waitFor(() => errored, 'client noticed');
		const pushed = pushOutcome(channel, 'echo', { sent: 'while down' }, ['ok', 'error', 'timeout'], 3000);
		const rejoin = await srv.waitFrame('in', (f) => is(topic, 'phx_join')(f) && f[0] !== jr1, 'rejoin');
		expect(rejoin[4]).toEqual({ n: 1 });
		expect(await pushed).toEqual({ status: 'ok', response: { pong: { sent: 'while down' } } });
		const echo = srv.textFrames('in', is(topic, 'echo'))[0]!;
		expect(echo[0]).toBe(rejoin[0]);
		const okIndex = srv.frames.findIndex((r) => Array.isArray(r.frame) && r.frame[1] === rejoin[0] && r.frame[3] === 'phx_reply');
		const echoIndex = srv.frames.findIndex((r) => r.frame === echo);
		expect(echoIndex).toBeGreaterThan(okIndex);
	});

	it.each([1001, 1011, 1012])('reconnects after a server close with %i', async (code) => {
		const name = user(`code${code}`);
		const socket = open({ authToken: name });
		const codes: number[] = [];
		socket.onClose((event: { code: number }) => { codes.push(event.code); });
		socket.connect();
		await waitFor(() => socket.isConnected(), 'open');
		const attempts = () => srv.auths.filter((a) => a.token === name).length;
		closeFromServer(srv.upgrades.at(-1)!, code);
		await waitFor(() => attempts() === 2 && socket.isConnected(), 'reconnected');
		expect(codes).toEqual([code]);
	});

	it(`${client.reconnectsAfter1000 ? 'reconnects' : 'stays disconnected'} after a server close with 1000`, async () => {
		const name = user('code1000');
		const socket = open({ authToken: name });
		socket.connect();
		await waitFor(() => socket.isConnected(), 'open');
		const attempts = () => srv.auths.filter((a) => a.token === name).length;
		closeFromServer(srv.upgrades.at(-1)!, 1000);
		if (client.reconnectsAfter1000) {
			await waitFor(() => attempts() === 2, 'reconnect');
		} else {
			await delay(300); // 15 reconnect intervals: nothing comes
			expect(attempts()).toBe(1);
			expect(socket.connectionState()).toBe('closed');
		}
	});

	it('is kicked by disconnect(socketKey) with 1001 (never 1000) and comes back', async () => {
		const name = user('kick');
		const socket = open({ authToken: name });
		const codes: number[] = [];
		socket.onClose((event: { code: number }) => { codes.push(event.code); });
		socket.connect();
		const topic = `room:kick-${client.version}`;
		const channel = socket.channel(topic);
		expect((await joinOutcome(channel)).status).toBe('ok');
		srv.channels.disconnect(`user:${name}`);
		await waitFor(() => codes.length === 1, 'kick close');
		expect(codes).toEqual([1001]);
		await waitFor(() => srv.textFrames('in', is(topic, 'phx_join')).length === 2 && channel.state === 'joined', 'rejoined');
		expect(srv.log).toContainEqual(expect.objectContaining({ type: 'terminate', topic, reason: 'kicked' }));
	});

	it('measures ping round trips and reports isConnected()', async () => {
		const socket = open({ authToken: user('ping') });
		socket.connect();
		await waitFor(() => socket.isConnected(), 'open');
		const rtt = await new Promise<number>((resolve) => (socket as unknown as { ping(cb: (ms: number) => void): boolean }).ping(resolve));
		expect(rtt).toBeGreaterThanOrEqual(0);
		expect(rtt).toBeLessThan(1000);
		socket.disconnect();
		await waitFor(() => !socket.isConnected(), 'closed');
	});

	it('disconnect() closes with no code (1005) and no reconnect; connect() rejoins with new join_refs', async () => {
		const name = user('dc');
		const socket = open({ authToken: name });
		socket.connect();
		const topic = `room:dc-${client.version}`;
		const channel = socket.channel(topic);
		expect((await joinOutcome(channel)).status).toBe('ok');
		const closesBefore = srv.closes.length;
		await new Promise<void>((resolve) => socket.disconnect(() => resolve()));
		const closed = await waitFor(() => srv.closes.slice(closesBefore).find((c) => c.code === 1005), 'close 1005');
		expect(closed).toBeTruthy();
		await delay(150);
		expect(srv.auths.filter((a) => a.token === name)).toHaveLength(1);
		expect(socket.connectionState()).toBe('closed');
		socket.connect();
		await waitFor(() => channel.state === 'joined' && srv.textFrames('in', is(topic, 'phx_join')).length === 2, 'rejoined');
		const [first, second] = srv.textFrames('in', is(topic, 'phx_join'));
		expect(second![0]).not.toBe(first![0]);
	});
});
