/**
 * The kit's phoenix transport against the real Outbox server (port 0) and
 * the unmodified `phoenix` client over `ws`. Every frame the client writes is
 * recorded, so a test can prove that a push was never handed to phoenix's
 * buffer and that a refused join is not retried.
 */
import { afterEach, describe, expect, test } from 'vitest';
import { WebSocket } from 'ws';
import type { SocketConnectOption } from 'phoenix';
import {
	createPhoenixTransport,
	type PhoenixTransport,
	type PhoenixTransportOptions
} from '../../../src/lib/outbox/adapters/phoenix-transport.js';
import { fetchSessionCheck } from '../../../src/lib/outbox/adapters/session-check.js';
import type { TransportStatus } from '../../../src/lib/outbox/ports.js';
import { cid, joinRoom, push, startServer, until, type TestServer } from '../chat/harness.js';

type Frame = [string | null, string | null, string, string, Record<string, unknown>];

/** A `ws` WebSocket class that records every frame sent and counts connect attempts. */
function recordingSocketClass() {
	const sent: Frame[] = [];
	let attempts = 0;
	class RecordingWebSocket extends WebSocket {
		constructor(url: string, protocols?: string | string[]) {
			super(url, protocols);
			attempts++;
		}
		override send(data: any, ...rest: any[]): void {
			if (typeof data === 'string') sent.push(JSON.parse(data) as Frame);
			(super.send as (...args: unknown[]) => void)(data, ...rest);
		}
	}
	return { RecordingWebSocket, sent, attempts: () => attempts };
}

const servers: TestServer[] = [];
const transports: PhoenixTransport[] = [];
afterEach(async () => {
	for (const transport of transports.splice(0)) transport.disconnect();
	for (const server of servers.splice(0)) await server.close().catch(() => {});
});

async function setup(
	socketOptions: Partial<SocketConnectOption> = {},
	extra: Partial<PhoenixTransportOptions> = {}
) {
	const server = await startServer();
	servers.push(server);
	const session = await server.signIn(`kit${servers.length}${Date.now().toString(36)}`);
	let token: string | null = session.token;
	const rec = recordingSocketClass();
	const transport = createPhoenixTransport({
		endpoint: server.wsUrl,
		token: () => token,
		socketOptions: {
			transport: rec.RecordingWebSocket as unknown as SocketConnectOption['transport'],
			heartbeatIntervalMs: 1000,
			reconnectAfterMs: () => 20,
			rejoinAfterMs: () => 50,
			timeout: 3000,
			...socketOptions
		},
		// Outbox's own check: GET /api/session answers 401 for a token it no longer takes.
		sessionCheck: fetchSessionCheck(`${server.url}/api/session`, () => token),
		...extra
	});
	transports.push(transport);
	const statuses: TransportStatus[] = [];
	transport.subscribeStatus((status) => statuses.push(status));
	return {
		server,
		session,
		transport,
		rec,
		statuses,
		setToken: (next: string | null) => void (token = next),
		connected: () => until(() => transport.status().status === 'connected', 5000, 'connected')
	};
}

const framesOf = (sent: Frame[], topic: string, event: string) => sent.filter((f) => f[2] === topic && f[3] === event);

/** Replace one store method for a test; returns the restore function. */
function stubHistory(server: TestServer, impl: (original: TestServer['outbox']['store']['history']) => TestServer['outbox']['store']['history']) {
	const store = server.outbox.store;
	const original = store.history.bind(store);
	store.history = impl(original);
	return () => void (store.history = original);
}

describe('phoenix transport: replies', () => {
	test('maps ok and error replies, and hands server pushes to onMessage', async () => {
		const { server, transport, connected } = await setup();
		transport.connect();
		await connected();
		expect(await transport.join('room:kit-a')).toEqual({ status: 'ok', response: { room: 'kit-a' } });
		expect(transport.channelState('room:kit-a')).toBe('joined');
		const pushed: unknown[] = [];
		transport.onMessage('room:kit-a', 'new_message', (payload) => pushed.push(payload));

		const id = cid();
		const ok = await transport.push('room:kit-a', 'send_message', { client_id: id, body: 'hello' }, 3000);
		expect(ok.status).toBe('ok');
		expect((ok as { response: { message: { client_id: string; body: string } } }).response.message).toMatchObject({
			client_id: id,
			body: 'hello'
		});
		const invalid = await transport.push('room:kit-a', 'send_message', { client_id: cid(), body: '' }, 3000);
		expect(invalid).toMatchObject({ status: 'error', response: { reason: 'invalid' } });
		const unknown = await transport.push('room:kit-a', 'no_such_event', {}, 3000);
		expect(unknown).toMatchObject({ status: 'error', response: { reason: 'invalid' } });

		// Its own message came back in the reply; another user's arrives as a push.
		const other = await server.signIn(`other${Date.now().toString(36)}`);
		const otherRoom = await joinRoom(server.connect(other.token), 'kit-a');
		const otherId = cid();
		expect((await push(otherRoom, 'send_message', { client_id: otherId, body: 'from the other' })).status).toBe('ok');
		await until(() => pushed.length === 1, 2000, 'new_message push');
		expect(pushed).toEqual([{ message: expect.objectContaining({ client_id: otherId, body: 'from the other' }) }]);
	});

	test('resolves timeout when the reply is slower than timeoutMs', async () => {
		const { server, transport, connected } = await setup();
		transport.connect();
		await connected();
		await transport.join('room:kit-b');
		const restore = stubHistory(server, (original) => async (...args) => {
			await new Promise((r) => setTimeout(r, 1000));
			return original(...args);
		});
		try {
			const started = Date.now();
			expect(await transport.push('room:kit-b', 'history', { before: null, limit: 10 }, 100)).toEqual({ status: 'timeout' });
			expect(Date.now() - started).toBeLessThan(900);
		} finally {
			restore();
		}
	});

	test('a channel crash fails the push in flight as error internal, and the channel rejoins', async () => {
		const { server, transport, connected } = await setup();
		transport.connect();
		await connected();
		await transport.join('room:kit-c');
		const restore = stubHistory(server, () => async () => {
			throw new Error('boom (test)');
		});
		const result = await transport.push('room:kit-c', 'history', { before: null, limit: 10 }, 3000);
		restore();
		expect(result).toEqual({ status: 'error', response: { reason: 'internal' } });
		await until(() => transport.channelState('room:kit-c') === 'joined', 3000, 'rejoin after crash');
		expect((await transport.push('room:kit-c', 'history', { before: null, limit: 10 }, 3000)).status).toBe('ok');
	});
});

describe('phoenix transport: never buffers', () => {
	test('a push to a topic not joined resolves closed at once and is never sent, even after reconnect', async () => {
		const { server, session, transport, rec, connected } = await setup({ reconnectAfterMs: () => 300 });
		transport.connect();
		await connected();
		expect(await transport.push('room:never-joined', 'send_message', { client_id: cid(), body: 'x' }, 3000)).toEqual({
			status: 'closed'
		});
		await transport.join('room:kit-d');

		server.outbox.channels.disconnect(`user:${session.user.id}`);
		await until(() => transport.status().status === 'connecting', 2000, 'drop noticed');
		expect(transport.channelState('room:kit-d')).not.toBe('joined');
		const lost = cid('lost');
		// Settled before any timer could fire: not left to wait for a reply or a timeout.
		const pushed = transport.push('room:kit-d', 'send_message', { client_id: lost, body: 'offline' }, 3000);
		const late = new Promise((resolve) => setTimeout(() => resolve('late'), 0));
		expect(await Promise.race([pushed, late])).toEqual({ status: 'closed' });

		await connected();
		await until(() => transport.channelState('room:kit-d') === 'joined', 3000, 'rejoined');
		const history = await transport.push('room:kit-d', 'history', { before: null, limit: 50 }, 3000);
		const messages = (history as { response: { messages: Array<{ client_id: string }> } }).response.messages;
		expect(messages.map((m) => m.client_id)).not.toContain(lost);
		expect(rec.sent.filter((f) => f[3] === 'send_message')).toEqual([]);
		expect(framesOf(rec.sent, 'room:kit-d', 'phx_join').length).toBeGreaterThanOrEqual(2);
	});

	test('a push in flight when the server drops the socket resolves closed at once, not at its timeout', async () => {
		const { server, session, transport, connected } = await setup({ reconnectAfterMs: () => 1000 });
		transport.connect();
		await connected();
		await transport.join('room:kit-e');
		let reached = false;
		let release = () => {};
		const restore = stubHistory(server, (original) => async (...args) => {
			reached = true;
			await new Promise<void>((r) => (release = r));
			return original(...args);
		});
		try {
			const pending = transport.push('room:kit-e', 'history', { before: null, limit: 10 }, 10_000);
			await until(() => reached, 2000, 'push reached the server');
			const dropped = Date.now();
			server.outbox.channels.disconnect(`user:${session.user.id}`);
			expect(await pending).toEqual({ status: 'closed' });
			expect(Date.now() - dropped).toBeLessThan(2000); // its timeout is 10 s
		} finally {
			release();
			restore();
		}
	});
});

describe('phoenix transport: joins', () => {
	test('a join refused as forbidden is left: reported closed with its reason, never retried', async () => {
		const { transport, rec, connected } = await setup({ rejoinAfterMs: () => 50 });
		transport.connect();
		await connected();
		const states: string[] = [];
		transport.subscribeChannel('room:dm-aaa-bbb', (state) => states.push(state));
		expect(await transport.join('room:dm-aaa-bbb')).toEqual({ status: 'error', response: { reason: 'forbidden' } });
		expect(transport.channelState('room:dm-aaa-bbb')).toBe('closed');
		expect(transport.joinError('room:dm-aaa-bbb')).toEqual({ reason: 'forbidden' });
		expect(states).toEqual(['joining', 'closed']);
		await new Promise((r) => setTimeout(r, 600)); // phoenix would have rejoined ~10 times by now
		expect(framesOf(rec.sent, 'room:dm-aaa-bbb', 'phx_join')).toHaveLength(1);
		expect(await transport.push('room:dm-aaa-bbb', 'send_message', { client_id: cid(), body: 'x' }, 1000)).toEqual({
			status: 'closed'
		});
	});

	test('leave settles the topic: later pushes resolve closed', async () => {
		const { transport, connected } = await setup();
		transport.connect();
		await connected();
		await transport.join('room:kit-f');
		await transport.leave('room:kit-f');
		expect(transport.channelState('room:kit-f')).toBe('closed');
		expect(await transport.push('room:kit-f', 'history', { before: null, limit: 1 }, 1000)).toEqual({ status: 'closed' });
	});
});

describe('phoenix transport: status', () => {
	test('a revoked session reports unauthorized and stops dialing until connect() with a new token', async () => {
		const { server, session, transport, rec, statuses, setToken, connected } = await setup();
		transport.connect();
		await connected();
		await transport.join('room:kit-g');
		expect((await server.api('DELETE', '/api/session', undefined, session.token)).status).toBe(200);
		await until(() => transport.status().status === 'disconnected', 3000, 'unauthorized');
		expect(transport.status()).toEqual({ status: 'disconnected', reason: 'unauthorized' });
		const attempts = rec.attempts();
		await new Promise((r) => setTimeout(r, 300)); // reconnectAfterMs is 20 ms
		expect(rec.attempts()).toBe(attempts);
		expect(statuses.map((s) => s.status)).toEqual(['connecting', 'connected', 'connecting', 'disconnected']);

		transport.connect(); // same revoked token: refused again
		await until(() => transport.status().status === 'disconnected', 3000, 'refused again');
		expect(transport.status()).toEqual({ status: 'disconnected', reason: 'unauthorized' });

		setToken((await server.signIn(session.user.name)).token);
		transport.connect();
		await connected();
		await until(() => transport.channelState('room:kit-g') === 'joined', 3000, 'rejoined with the new token');
	});

	test('a stopped server is plain disconnected (not unauthorized), and phoenix keeps dialing', async () => {
		const { server, transport, rec, connected } = await setup({ reconnectAfterMs: () => 50 });
		transport.connect();
		await connected();
		// http.close() stops listening at once but waits for open sockets: kick them.
		const stopped = server.close();
		void server.outbox.channels.close();
		await stopped;
		servers.length = 0;
		await until(() => transport.status().status === 'disconnected', 3000, 'disconnected');
		expect(transport.status()).toEqual({ status: 'disconnected' });
		const attempts = rec.attempts();
		await until(() => rec.attempts() >= attempts + 3, 3000, 'further connect attempts');
		expect(transport.status()).toEqual({ status: 'disconnected' });
	});

	test('without a token, connect() reports unauthorized and does not dial', async () => {
		const { transport, rec, setToken } = await setup();
		setToken(null);
		transport.connect();
		expect(transport.status()).toEqual({ status: 'disconnected', reason: 'unauthorized' });
		await new Promise((r) => setTimeout(r, 50));
		expect(rec.attempts()).toBe(0);
	});

	test('reconnectNow reconnects at once instead of waiting for the backoff, and channels rejoin', async () => {
		const { server, session, transport, connected } = await setup({ reconnectAfterMs: () => 5000 });
		transport.connect();
		await connected();
		await transport.join('room:kit-h');
		server.outbox.channels.disconnect(`user:${session.user.id}`);
		await until(() => transport.status().status === 'connecting', 2000, 'drop noticed');
		await new Promise((r) => setTimeout(r, 200));
		expect(transport.status().status).toBe('connecting'); // phoenix waits 5 s

		const started = Date.now();
		transport.reconnectNow();
		await connected();
		await until(() => transport.channelState('room:kit-h') === 'joined', 2000, 'rejoined');
		expect(Date.now() - started).toBeLessThan(1000);
		const result = await transport.push('room:kit-h', 'send_message', { client_id: cid(), body: 'back' }, 3000);
		expect(result.status).toBe('ok');
	});

	test("disconnect() then connect() (the runtime's reconnect) settles pushes in flight as closed and reconnects at once", async () => {
		const { server, transport, connected } = await setup({ reconnectAfterMs: () => 5000 });
		transport.connect();
		await connected();
		await transport.join('room:kit-i');
		let reached = false;
		let release = () => {};
		const restore = stubHistory(server, (original) => async (...args) => {
			reached = true;
			await new Promise<void>((r) => (release = r));
			return original(...args);
		});
		try {
			const pending = transport.push('room:kit-i', 'history', { before: null, limit: 10 }, 10_000);
			await until(() => reached, 2000, 'push reached the server');
			transport.disconnect();
			expect(transport.status()).toEqual({ status: 'disconnected' });
			expect(await pending).toEqual({ status: 'closed' });
			const started = Date.now();
			transport.connect();
			await connected();
			await until(() => transport.channelState('room:kit-i') === 'joined', 2000, 'rejoined');
			expect(Date.now() - started).toBeLessThan(1000);
		} finally {
			release();
			restore();
		}
	});
});
