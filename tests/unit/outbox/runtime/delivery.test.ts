import { describe, expect, it } from 'vitest';
import { backoffBound } from '../../../../src/lib/outbox/core/retry-policy.js';
import { error } from '../../../../src/lib/outbox/testing/memory-server.js';
import { World } from './harness.js';

const ROOM = 'room:lobby';

describe('engine delivery', () => {
	it('confirms every action exactly once despite lost acks and duplicated frames', async () => {
		const world = new World({ seed: 11, faults: { duplicateRate: 0.3, lostAckRate: 0.25 }, retry: { maxRetries: 20, baseMs: 100, capMs: 1000 } });
		const tab = world.tab('ann');
		await tab.outbox.ready;
		const ids: string[] = [];
		for (let i = 0; i < 40; i++) {
			ids.push((await tab.outbox.add('send_message', ROOM, { body: `m${i}` })).id);
			if (i % 7 === 0) await world.run(30, 10);
		}
		await world.until(() => tab.outbox.count === 0, 120_000, 'queue drained');

		const serverIds = world.model.messages.map((m) => m.client_id);
		expect(serverIds).toEqual(ids); // each once, in creation order
		expect(world.model.messages.map((m) => m.seq)).toEqual(ids.map((_, i) => i + 1));
		// The faults did happen: the server saw repeats it deduped, and acks were lost.
		const pushes = tab.pair.server.received.filter((r) => r.event === 'send_message' || r.event === 'send_batch');
		const actionsReceived = pushes.flatMap((r) => (r.event === 'send_batch' ? (r.payload.actions as unknown[]) : [r.payload]));
		expect(actionsReceived.length).toBeGreaterThan(40);
		expect(tab.pair.network.log.some((f) => f.lost === 'lost-ack')).toBe(true);
		expect(tab.pair.network.log.some((f) => f.copies === 2)).toBe(true);
		// Each item reconciled exactly once, and nothing failed.
		const reconciled = tab.log.filter((e) => e.type === 'call-reconciled').map((e) => (e.detail as { item: { id: string } }).item.id);
		expect(reconciled.sort()).toEqual([...ids].sort());
		expect(tab.types()).not.toContain('call-failed');
		expect(world.storage.snapshot('ann')).toEqual([]);
	});

	it('keeps per-room order while frames overtake each other across rooms', async () => {
		const world = new World({ seed: 5, faults: { latencyMs: 2, jitterMs: 40, duplicateRate: 0.2 } });
		const tab = world.tab('ann');
		await tab.outbox.ready;
		const made: Record<string, string[]> = { 'room:a': [], 'room:b': [], 'room:c': [] };
		const topics = Object.keys(made);
		for (let i = 0; i < 60; i++) {
			const topic = topics[i % 3] as string;
			made[topic]?.push((await tab.outbox.add('send_message', topic, { body: `${i}` })).id);
			if (i % 5 === 4) await world.run(15, 5);
		}
		await world.until(() => tab.outbox.count === 0, 60_000, 'queue drained');
		for (const topic of topics) {
			const room = topic.slice(5);
			const stored = world.model.messages.filter((m) => m.room === room).sort((x, y) => x.seq - y.seq);
			expect(stored.map((m) => m.client_id)).toEqual(made[topic]);
		}
		// Frames did arrive out of the order they were sent.
		const toServer = tab.pair.network.log.filter((f) => f.direction === 'toServer' && f.deliveredAt.length > 0);
		const arrival = [...toServer].sort((x, y) => (x.deliveredAt[0] as number) - (y.deliveredAt[0] as number));
		expect(arrival.map((f) => f.seq)).not.toEqual(toServer.map((f) => f.seq));
	});

	it('sends 250 ready items of one lane as send_batch pushes of 100, 100 and 50, in order', async () => {
		const world = new World();
		const tab = world.tab('ann');
		await tab.outbox.ready;
		tab.pair.setReachable(false);
		await world.run(100);
		const ids: string[] = [];
		const adds = Array.from({ length: 250 }, (_, i) => tab.outbox.add('send_message', ROOM, { body: `b${i}` }));
		for (const item of await Promise.all(adds)) ids.push(item.id);
		expect(world.storage.stats.transactions).toBe(1); // one putMany for the 250 adds made together
		tab.pair.setReachable(true);
		await world.until(() => tab.outbox.count === 0, 30_000, 'queue drained');
		const batches = tab.pair.server.receivedOf('send_batch').map((r) => (r.payload.actions as Array<{ client_id: string }>).map((a) => a.client_id));
		expect(batches.map((b) => b.length)).toEqual([100, 100, 50]);
		expect(batches.flat()).toEqual(ids);
		expect(tab.pair.server.receivedOf('send_message')).toHaveLength(0);
		const start = tab.log.filter((e) => e.type === 'queue-processing-start');
		const complete = tab.log.filter((e) => e.type === 'queue-processing-complete');
		expect(start).toHaveLength(1);
		expect(complete.at(-1)?.detail).toMatchObject({ reconciled: 250, failed: 0, remaining: 0 });
	});

	it('marks a poison action failed after maxRetries, keeps it stored, and lets its lane go on', async () => {
		const world = new World({ retry: { maxRetries: 3, baseMs: 100, capMs: 400 } });
		const tab = world.tab('ann');
		await tab.outbox.ready;
		let poisonId = '';
		world.model.intercept = (request) => (request.payload.client_id === poisonId ? error('internal', 'boom') : undefined);
		const poison = await tab.outbox.add('send_message', ROOM, { body: 'poison' });
		poisonId = poison.id;
		await world.run(5_000);
		const after = await tab.outbox.add('send_message', ROOM, { body: 'after' });
		await world.until(() => world.model.messages.length === 1, 10_000, 'the next action confirmed');

		const attempts = tab.pair.server.received.filter((r) => r.payload.client_id === poisonId);
		expect(attempts).toHaveLength(1 + 3);
		expect(tab.outbox.get(poisonId)).toMatchObject({ status: 'failed', attempts: 4, lastError: { reason: 'internal', message: 'boom' } });
		expect(world.storage.snapshot('ann')).toEqual([expect.objectContaining({ id: poisonId, status: 'failed' })]);
		const failed = tab.log.filter((e) => e.type === 'call-failed');
		expect(failed).toHaveLength(1);
		expect(failed[0]?.detail).toMatchObject({ exhausted: true });
		expect(world.model.messages.map((m) => m.client_id)).toEqual([after.id]);
		await world.run(60_000, 1000);
		expect(tab.outbox.count).toBe(1); // never dropped
	});

	it('retries a failed item on request and discards another, rolling it back', async () => {
		const world = new World();
		const tab = world.tab('ann');
		await tab.outbox.ready;
		world.model.intercept = (request) => (request.event === 'send_message' || request.event === 'send_batch' ? error('invalid', 'nope') : undefined);
		const a = await tab.outbox.add('send_message', ROOM, { body: 'a' });
		await world.run(200);
		const b = await tab.outbox.add('send_message', ROOM, { body: 'b' });
		await world.run(200);
		expect(tab.outbox.list().map((i) => i.status)).toEqual(['failed', 'failed']);

		world.model.intercept = null;
		await tab.outbox.retry(a.id);
		await tab.outbox.discard(b.id);
		expect(world.storage.snapshot('ann').map((i) => i.id)).toEqual([a.id]);
		await world.until(() => tab.outbox.count === 0, 5_000, 'retried item confirmed');
		expect(world.model.messages.map((m) => m.client_id)).toEqual([a.id]);
		expect(tab.log.filter((e) => e.type === 'call-rolled-back').map((e) => e.detail)).toEqual([
			expect.objectContaining({ reason: 'discarded', item: expect.objectContaining({ id: b.id }) })
		]);
		expect(world.storage.snapshot('ann')).toEqual([]);
	});

	it('waits a jittered backoff within its bound before each retry, growing to the cap', async () => {
		const retry = { maxRetries: 8, baseMs: 200, capMs: 1600 };
		const world = new World({ retry, faults: { latencyMs: 5 } });
		const tab = world.tab('ann');
		await tab.outbox.ready;
		world.model.intercept = () => error('rate_limited');
		await tab.outbox.add('send_message', ROOM, { body: 'x' });
		await world.run(30_000, 100);
		const times = tab.pair.server.receivedOf('send_message').map((r) => r.at);
		expect(times).toHaveLength(9);
		const gaps = times.slice(1).map((t, i) => t - (times[i] as number));
		gaps.forEach((gap, i) => {
			// reply latency + jittered delay (≤ bound) + push latency
			expect(gap).toBeGreaterThanOrEqual(10);
			expect(gap).toBeLessThanOrEqual(10 + backoffBound(i + 1, retry));
		});
		expect(Math.max(...gaps)).toBeLessThanOrEqual(10 + retry.capMs);
		expect(tab.outbox.list()[0]).toMatchObject({ status: 'failed', attempts: 9 });
	});
});
