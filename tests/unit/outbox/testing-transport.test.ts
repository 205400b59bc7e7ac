import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/lib/outbox/testing/fake-clock.js';
import { createMemoryTransportPair, MemoryTransportPair } from '../../../src/lib/outbox/testing/memory-transport.js';
import type { MemoryTransportOptions } from '../../../src/lib/outbox/testing/memory-transport.js';
import { ok, error } from '../../../src/lib/outbox/testing/memory-server.js';
import type { PushResult, TransportStatus } from '../../../src/lib/outbox/ports.js';

const TOPIC = 'room:lobby';

async function connected(options: Omit<MemoryTransportOptions, 'clock'> = {}) {
	const clock = new FakeClock(0);
	const pair = createMemoryTransportPair({ clock, ...options });
	pair.server.handle('echo', ({ payload }) => ok({ echo: payload.n }));
	pair.client.connect();
	const joined = pair.client.join(TOPIC);
	await clock.advanceAsync(100);
	expect(await joined).toEqual({ status: 'ok', response: {} });
	return { clock, pair };
}

/** Push n echoes at once and let the clock run until every one is settled. */
async function pushMany(clock: FakeClock, pair: MemoryTransportPair, n: number, timeoutMs = 1000) {
	const results: PushResult[] = new Array(n);
	const all = Array.from({ length: n }, (_, i) => pair.client.push(TOPIC, 'echo', { n: i }, timeoutMs).then((r) => (results[i] = r)));
	await clock.advanceAsync(timeoutMs + 500);
	await Promise.all(all);
	return results;
}

const receivedOrder = (pair: MemoryTransportPair) => pair.server.receivedOf('echo').map((r) => r.payload.n as number);

describe('memory transport pair', () => {
	it('connects, joins, and carries a push and its reply on the fake clock', async () => {
		const { clock, pair } = await connected();
		expect(pair.client.status()).toEqual({ status: 'connected' });
		expect(pair.client.channelState(TOPIC)).toBe('joined');
		const reply = pair.client.push(TOPIC, 'echo', { n: 7 }, 1000);
		await clock.advanceAsync(10);
		expect(await reply).toEqual({ status: 'ok', response: { echo: 7 } });
	});

	it('answers closed at once when not connected or not joined, buffering nothing', async () => {
		const clock = new FakeClock();
		const pair = createMemoryTransportPair({ clock });
		expect(await pair.client.push(TOPIC, 'echo', {}, 1000)).toEqual({ status: 'closed' });
		const { pair: up } = await connected();
		expect(await up.client.push('room:other', 'echo', {}, 1000)).toEqual({ status: 'closed' });
		expect(pair.network.log).toHaveLength(0);
	});

	it('passes error replies through with their reason', async () => {
		const { clock, pair } = await connected();
		pair.server.handle('send_message', () => error('rate_limited', 'slow down'));
		const r = pair.client.push(TOPIC, 'send_message', {}, 1000);
		await clock.advanceAsync(20);
		expect(await r).toEqual({ status: 'error', response: { reason: 'rate_limited', message: 'slow down' } });
	});

	it('drops frames under a seed, the same ones on every run, and dropped pushes time out', async () => {
		const run = async () => {
			const { clock, pair } = await connected({ seed: 42, faults: { dropRate: 0.3 } });
			const results = await pushMany(clock, pair, 200);
			return { results, received: receivedOrder(pair), pair };
		};
		const first = await run();
		const timeouts = first.results.filter((r) => r.status === 'timeout').length;
		expect(timeouts).toBeGreaterThan(60); // ~1 - 0.7^2 of the round trips fail
		expect(timeouts).toBeLessThan(140);
		expect(first.received.length).toBeLessThan(200);
		expect(first.pair.network.log.some((f) => f.lost === 'dropped')).toBe(true);
		const second = await run();
		expect(second.received).toEqual(first.received);
		expect(second.results.map((r) => r.status)).toEqual(first.results.map((r) => r.status));
	});

	it('duplicates frames: the server acts twice, the client settles each push once', async () => {
		const { clock, pair } = await connected({ seed: 3, faults: { duplicateRate: 0.5 } });
		const results = await pushMany(clock, pair, 100);
		expect(results.every((r) => r.status === 'ok')).toBe(true);
		const received = receivedOrder(pair);
		expect(received.length).toBeGreaterThan(120);
		expect(new Set(received).size).toBe(100);
		expect(pair.client.inFlight).toBe(0);
	});

	it('reorders frames with jitter, and keeps order without it', async () => {
		const jittery = await connected({ seed: 8, faults: { latencyMs: 1, jitterMs: 50 } });
		await pushMany(jittery.clock, jittery.pair, 50);
		const order = receivedOrder(jittery.pair);
		expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
		expect(order).not.toEqual([...order].sort((a, b) => a - b));

		const steady = await connected({ seed: 8, faults: { latencyMs: 1 } });
		await pushMany(steady.clock, steady.pair, 50);
		expect(receivedOrder(steady.pair)).toEqual(Array.from({ length: 50 }, (_, i) => i));
	});

	it('loses an ack: the server acted, the client sees a timeout', async () => {
		const { clock, pair } = await connected();
		pair.network.loseNextAcks(1);
		const [lost, fine] = await pushMany(clock, pair, 2);
		expect(lost).toEqual({ status: 'timeout' });
		expect(fine).toEqual({ status: 'ok', response: { echo: 1 } });
		expect(receivedOrder(pair)).toEqual([0, 1]);
		expect(pair.network.log.filter((f) => f.lost === 'lost-ack')).toHaveLength(1);
	});

	it('loses a random share of acks under lostAckRate, never a push', async () => {
		const { clock, pair } = await connected({ seed: 5, faults: { lostAckRate: 0.5 } });
		const results = await pushMany(clock, pair, 100);
		const timeouts = results.filter((r) => r.status === 'timeout').length;
		expect(timeouts).toBeGreaterThan(25);
		expect(timeouts).toBeLessThan(75);
		expect(receivedOrder(pair)).toHaveLength(100);
	});

	it('a cut resolves in-flight pushes as closed, then reconnects and rejoins', async () => {
		const { clock, pair } = await connected({ faults: { latencyMs: 20 } });
		const statuses: TransportStatus['status'][] = [];
		pair.client.subscribeStatus((s) => statuses.push(s.status));
		const inFlight = pair.client.push(TOPIC, 'echo', { n: 1 }, 5000);
		await clock.advanceAsync(5);
		pair.cut();
		expect(await inFlight).toEqual({ status: 'closed' });
		expect(pair.client.channelState(TOPIC)).toBe('errored');
		await clock.advanceAsync(200);
		expect(statuses).toEqual(['connecting', 'connected']);
		expect(pair.client.channelState(TOPIC)).toBe('joined');
		expect(pair.server.receivedOf('echo')).toHaveLength(0); // the frame died with its connection
		expect(pair.network.log.some((f) => f.stale > 0)).toBe(true);
	});

	it('keeps trying while unreachable and connects when the network is back', async () => {
		const { clock, pair } = await connected();
		pair.setReachable(false);
		await clock.advanceAsync(5000);
		expect(pair.client.status().status).toBe('connecting');
		expect(await pair.client.push(TOPIC, 'echo', {}, 100)).toEqual({ status: 'closed' });
		pair.setReachable(true);
		await clock.advanceAsync(6000);
		expect(pair.client.status()).toEqual({ status: 'connected' });
	});

	it('reports a refused token as disconnected with reason unauthorized, and stops trying', async () => {
		const clock = new FakeClock();
		const pair = createMemoryTransportPair({ clock });
		pair.server.refuse = 'unauthorized';
		pair.client.connect();
		await clock.advanceAsync(10_000);
		expect(pair.client.status()).toEqual({ status: 'disconnected', reason: 'unauthorized' });
		expect(clock.pendingTimers).toBe(0);
	});

	it('delivers server pushes to onMessage listeners of joined topics, and a refused join closes the topic', async () => {
		const { clock, pair } = await connected();
		const got: unknown[] = [];
		const stop = pair.client.onMessage(TOPIC, 'new_message', (p) => got.push(p));
		expect(pair.server.push(TOPIC, 'new_message', { message: { seq: 1 } })).toBe(true);
		expect(pair.server.push('room:nobody', 'new_message', {})).toBe(false);
		await clock.advanceAsync(10);
		stop();
		pair.server.push(TOPIC, 'new_message', { message: { seq: 2 } });
		await clock.advanceAsync(10);
		expect(got).toEqual([{ message: { seq: 1 } }]);

		pair.server.onJoin((topic) => (topic === 'room:dm-a-b' ? error('forbidden') : ok({})));
		const refused = pair.client.join('room:dm-a-b');
		await clock.advanceAsync(10);
		expect(await refused).toEqual({ status: 'error', response: { reason: 'forbidden' } });
		expect(pair.client.channelState('room:dm-a-b')).toBe('closed');
	});

	it('a reply the server holds back resolves when released, or times out', async () => {
		const { clock, pair } = await connected();
		let release: (() => void) | undefined;
		pair.server.handle('slow', () => new Promise((resolve) => (release = () => resolve(ok({ done: true })))));
		pair.server.handle('never', () => null);
		const slow = pair.client.push(TOPIC, 'slow', {}, 1000);
		const never = pair.client.push(TOPIC, 'never', {}, 1000);
		await clock.advanceAsync(100);
		release?.();
		await clock.advanceAsync(1000);
		expect(await slow).toEqual({ status: 'ok', response: { done: true } });
		expect(await never).toEqual({ status: 'timeout' });
	});
});
