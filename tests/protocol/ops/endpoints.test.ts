/**
 * /healthz, /readyz and /metrics as DESIGN.md "Operations" says: liveness,
 * readiness that asks the store (503 with the reason), and Prometheus text
 * for loopback callers, or only for the Bearer METRICS_TOKEN when it is set.
 */
import { Socket } from 'phoenix';
import { afterEach, describe, expect, test } from 'vitest';
import { WebSocket } from 'ws';
import { createSqliteStore } from '../../../src/lib/server/store/sqlite-store.js';
import type { ChatStore } from '../../../src/lib/server/store/port.js';
import { startOpsServer, type OpsServer } from './ops-server.js';

let ops: OpsServer | null = null;
afterEach(async () => {
	await ops?.close();
	ops = null;
});

const get = (path: string, headers: Record<string, string> = {}) => fetch(ops!.url + path, { headers });

function connect(token: string): Socket {
	const socket = new Socket(ops!.url.replace('http', 'ws') + '/socket', { transport: WebSocket as never, authToken: token, reconnectAfterMs: () => 50 });
	socket.connect();
	return socket;
}

function push(channel: ReturnType<Socket['channel']>, event: string, payload: object): Promise<{ status: string; response: any }> {
	return new Promise((resolve) => {
		channel
			.push(event, payload, 5000)
			.receive('ok', (response) => resolve({ status: 'ok', response }))
			.receive('error', (response) => resolve({ status: 'error', response }))
			.receive('timeout', () => resolve({ status: 'timeout', response: null }));
	});
}

function join(socket: Socket, topic: string): Promise<ReturnType<Socket['channel']>> {
	const channel = socket.channel(topic);
	return new Promise((resolve, reject) => channel.join().receive('ok', () => resolve(channel)).receive('error', reject));
}

describe('health and readiness', () => {
	test('GET /healthz answers 200 while the process runs, /readyz 200 when the store answers', async () => {
		ops = await startOpsServer();
		const health = await get('/healthz');
		expect(health.status).toBe(200);
		expect(await health.json()).toEqual({ status: 'ok' });
		const ready = await get('/readyz');
		expect(ready.status).toBe(200);
		expect(await ready.json()).toEqual({ status: 'ready' });
		expect((await fetch(ops.url + '/healthz', { method: 'POST' })).status).toBe(405);
	});

	test('GET /readyz answers 503 with the reason when the store fails, and 200 again once it answers', async () => {
		let broken = false;
		const real = createSqliteStore({ file: ':memory:' });
		const store: ChatStore = {
			...real,
			ping: () => (broken ? Promise.reject(new Error('disk I/O error')) : real.ping())
		};
		ops = await startOpsServer({}, { store });
		expect((await get('/readyz')).status).toBe(200);
		broken = true;
		const down = await get('/readyz');
		expect(down.status).toBe(503);
		expect(await down.json()).toEqual({ status: 'unavailable', reason: 'the store does not answer: disk I/O error' });
		expect((await get('/healthz')).status).toBe(200);
		broken = false;
		expect((await get('/readyz')).status).toBe(200);
	});

	test('GET /readyz answers 503 when the store does not answer within 2 s', async () => {
		const real = createSqliteStore({ file: ':memory:' });
		const store: ChatStore = { ...real, ping: () => new Promise(() => {}) };
		ops = await startOpsServer({}, { store });
		const res = await get('/readyz');
		expect(res.status).toBe(503);
		expect((await res.json()).reason).toBe('the store did not answer within 2000 ms');
	});

	test('a closed SQLite store is not ready', async () => {
		ops = await startOpsServer();
		await ops.server.outbox.store.close();
		const res = await get('/readyz');
		expect(res.status).toBe(503);
		expect((await res.json()).reason).toMatch(/^the store does not answer: /);
	});
});

describe('metrics', () => {
	test('Prometheus text with sockets, channels, events by outcome, latency, fan-out, commits, refusals, limits and process figures', async () => {
		ops = await startOpsServer({ socketRateLimit: { perSecond: 1, burst: 3 } }, { processMetrics: true });
		const alice = await ops.signIn('alice');
		const bob = await ops.signIn('bob');
		const a = connect(alice.token);
		const b = connect(bob.token);
		const roomA = await join(a, 'room:metrics');
		await join(b, 'room:metrics');
		expect((await push(roomA, 'send_message', { client_id: 'm-1', body: 'one' })).status).toBe('ok');
		expect((await push(roomA, 'nonsense', {})).response.reason).toBe('invalid');
		expect((await push(roomA, 'send_message', { client_id: 'm-2', body: '' })).response.reason).toBe('invalid');
		expect((await push(roomA, 'send_message', { client_id: 'm-3', body: 'three' })).response.reason).toBe('rate_limited');
		const foreign = a.channel('room:dm-zzzz-zzzzz');
		await new Promise((resolve) => foreign.join().receive('error', resolve));
		await new Promise<void>((resolve) => {
			const bad = new WebSocket(ops!.url.replace('http', 'ws') + '/socket/websocket?vsn=2.0.0&token=forged');
			bad.on('error', () => resolve());
		});
		expect((await fetch(ops.url + '/api/rooms')).status).toBe(401);

		const res = await get('/metrics');
		expect(res.status).toBe(200);
		expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0.0.4/);
		const text = await res.text();
		expect(text).toContain('outbox_sockets 2');
		expect(text).toContain('outbox_channels_joined 2');
		expect(text).toContain('outbox_events_total{event="send_message",outcome="ok"} 1');
		expect(text).toContain('outbox_events_total{event="send_message",outcome="invalid"} 1');
		expect(text).toContain('outbox_events_total{event="send_message",outcome="rate_limited"} 1');
		expect(text).toContain('outbox_events_total{event="unknown",outcome="invalid"} 1');
		expect(text).toContain('outbox_events_total{event="phx_join",outcome="ok"} 2');
		expect(text).toContain('outbox_events_total{event="phx_join",outcome="forbidden"} 1');
		expect(text).toMatch(/outbox_reply_duration_seconds_count\{event="send_message"\} 2/);
		expect(text).toMatch(/outbox_broadcast_fanout_count [1-9]/);
		expect(text).toMatch(/outbox_broadcast_fanout_sum [1-9]/);
		expect(text).toMatch(/outbox_store_commit_duration_seconds_count\{operation="applyActions",result="ok"\} [1-9]/);
		expect(text).toContain('outbox_refusals_total{kind="join_forbidden"} 1');
		expect(text).toContain('outbox_refusals_total{kind="connect_token"} 1');
		expect(text).toContain('outbox_refusals_total{kind="http_unauthorized"} 1');
		expect(text).toContain('outbox_rate_limited_total{kind="socket_events"} 1');
		expect(text).toMatch(/process_resident_memory_bytes \d+/);
		expect(text).toMatch(/nodejs_eventloop_lag_seconds \d/);
		a.disconnect();
		b.disconnect();
	});

	test('without METRICS_TOKEN only loopback callers get it; a remote caller (via a trusted proxy) gets 404', async () => {
		ops = await startOpsServer({ trustProxy: 1 });
		expect((await get('/metrics')).status).toBe(200);
		expect((await get('/metrics', { 'x-forwarded-for': '127.0.0.1' })).status).toBe(200);
		const remote = await get('/metrics', { 'x-forwarded-for': '203.0.113.9' });
		expect(remote.status).toBe(404);
		expect(await remote.text()).not.toContain('outbox_');
	});

	test('with METRICS_TOKEN only `Authorization: Bearer <token>` gets it, from anywhere; everyone else 404', async () => {
		const token = 'metrics-token-0123456789';
		ops = await startOpsServer({ trustProxy: 1, metricsToken: token });
		expect((await get('/metrics')).status).toBe(404);
		expect((await get('/metrics', { authorization: 'Bearer wrong-token-0123456789' })).status).toBe(404);
		expect((await get('/metrics', { authorization: `Bearer ${token}x` })).status).toBe(404);
		expect((await get('/metrics', { authorization: `Basic ${token}` })).status).toBe(404);
		const ok = await get('/metrics', { authorization: `Bearer ${token}`, 'x-forwarded-for': '203.0.113.9' });
		expect(ok.status).toBe(200);
		expect(await ok.text()).toContain('outbox_sockets 0');
	});
});
