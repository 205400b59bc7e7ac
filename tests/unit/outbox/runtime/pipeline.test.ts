/**
 * Several batches of one lane in flight (`batchesInFlight`): each batch behind
 * another names it in `after`; the harness's server refuses a batch whose
 * `after` is not the last batch it applied on the channel (`out_of_order`), as
 * Outbox's server does. Order and exactly-once must hold whatever the
 * network and the server do.
 */
import { describe, expect, it } from 'vitest';
import { error, type ServerRequest } from '../../../../src/lib/outbox/testing/memory-server.js';
import { World, type Tab } from './harness.js';

const ROOM = 'room:lobby';
type Entry = { client_id: string };
const actionsOf = (r: ServerRequest) => (r.payload.actions as Entry[]).map((a) => a.client_id);

async function queueOffline(world: World, tab: Tab, count: number, topic = ROOM): Promise<string[]> {
	await tab.outbox.ready;
	tab.pair.setReachable(false);
	await world.run(50);
	const added = await Promise.all(Array.from({ length: count }, (_, i) => tab.outbox.add('send_message', topic, { body: `p${i}` })));
	return added.map((item) => item.id);
}

describe('pipelined batches (batchesInFlight)', () => {
	it('streams a lane as batches that each name the one before, several in flight at once', async () => {
		const world = new World();
		const tab = world.tab('ann', { batchesInFlight: 4 });
		const ids = await queueOffline(world, tab, 1000);
		const transactionsBefore = world.storage.stats.transactions;
		// Every list the queue shows while it drains is in creation order (the store reuses its last order).
		const position = new Map(ids.map((id, i) => [id, i]));
		let lists = 0;
		let unordered = 0;
		const stop = tab.outbox.queue.subscribe(({ items }) => {
			lists++;
			if (items.some((item, i) => i > 0 && position.get(item.id)! < position.get(items[i - 1]!.id)!)) unordered++;
		});
		tab.pair.setReachable(true);
		// In flight, items show as sending (to this tab and the others) but storage keeps them queued: no write per send.
		await world.until(() => tab.outbox.queue.get().counts.sending > 0, 5_000, 'batches in flight');
		expect(world.storage.snapshot('ann').filter((item) => item.status !== 'queued')).toEqual([]);
		await world.until(() => tab.outbox.count === 0, 30_000, 'queue drained');
		stop();
		expect(lists).toBeGreaterThan(10);
		expect(unordered).toBe(0);

		const batches = tab.pair.server.receivedOf('send_batch');
		expect(batches).toHaveLength(10);
		expect(batches.flatMap(actionsOf)).toEqual(ids);
		expect(batches[0]?.payload.after).toBeUndefined();
		batches.slice(1).forEach((batch, k) => expect(batch.payload.after).toBe(actionsOf(batches[k]!).at(-1)));
		// Four went out together, before any reply (one round trip is 10 ms of fake time here).
		expect(batches.slice(0, 4).map((b) => b.at)).toEqual(Array(4).fill(batches[0]!.at));
		expect(world.model.refusedOutOfOrder).toBe(0);
		expect(world.model.messages.map((m) => m.client_id)).toEqual(ids);
		expect(tab.log.filter((e) => e.type === 'call-reconciled')).toHaveLength(1000);
		// At most one storage write per reply, not one per item; sending marks are not written.
		expect(world.storage.stats.transactions - transactionsBefore).toBeLessThanOrEqual(batches.length);
	});

	it('keeps to one batch in flight by default', async () => {
		const world = new World();
		const tab = world.tab('ann');
		await queueOffline(world, tab, 300);
		tab.pair.setReachable(true);
		await world.until(() => tab.outbox.count === 0, 30_000, 'queue drained');
		const batches = tab.pair.server.receivedOf('send_batch');
		expect(batches.map((b) => b.payload.after)).toEqual([undefined, undefined, undefined]);
		expect(new Set(batches.map((b) => b.at)).size).toBe(3);
	});

	it('after a batch fails retryably, the batches behind it are refused whole and the lane sends again from the failed one', async () => {
		const world = new World({ retry: { baseMs: 100, capMs: 200 } });
		const tab = world.tab('ann', { batchesInFlight: 4 });
		const ids = await queueOffline(world, tab, 600);
		const failing = ids[200]!; // first action of the third batch
		let failures = 0;
		world.model.intercept = (request) => {
			if (request.event === 'send_batch' && actionsOf(request)[0] === failing && failures++ === 0) return error('internal', 'store down');
			return undefined;
		};
		tab.pair.setReachable(true);
		await world.until(() => tab.outbox.count === 0, 30_000, 'queue drained');

		// Batches 4 (and any sent behind it before the failure came back) were refused: nothing of theirs applied early.
		expect(world.model.refusedOutOfOrder).toBeGreaterThanOrEqual(1);
		expect(world.model.messages.map((m) => m.client_id)).toEqual(ids);
		const sent = tab.pair.server.receivedOf('send_batch').map((r) => actionsOf(r)[0]);
		// The failed action went again (alone or in a batch: each failed item has its own backoff), and only then the rest.
		const carrying = tab.pair.server.received.filter((r) => (r.event === 'send_batch' ? actionsOf(r) : [r.payload.client_id]).includes(failing));
		expect(carrying).toHaveLength(2);
		// The refused batches were not charged: only the failed batch's items carry a charged attempt, and nothing failed.
		expect(tab.types()).not.toContain('call-failed');
		const reconciled = new Map(tab.log.filter((e) => e.type === 'call-reconciled').map((e) => {
			const { item } = e.detail as { item: { id: string; attempts: number } };
			return [item.id, item.attempts];
		}));
		expect(reconciled.size).toBe(600);
		expect(reconciled.get(ids[250]!)).toBe(1);
		expect(reconciled.get(ids[350]!)).toBe(0);
	});

	it('a retryable failure of one action inside a batch also holds the batches behind it', async () => {
		const world = new World({ retry: { baseMs: 100, capMs: 200 } });
		const tab = world.tab('ann', { batchesInFlight: 3 });
		const ids = await queueOffline(world, tab, 300);
		const poisoned = ids[150]!;
		let failures = 0;
		const realApply = world.model.apply.bind(world.model);
		world.model.apply = (author, topic, action, from, batch) =>
			action.client_id === poisoned && failures++ === 0 ? error('rate_limited') : realApply(author, topic, action, from, batch);
		tab.pair.setReachable(true);
		await world.until(() => tab.outbox.count === 0, 30_000, 'queue drained');
		expect(failures).toBeGreaterThan(1);
		expect(world.model.refusedOutOfOrder).toBeGreaterThanOrEqual(1);
		// 151..199 were applied in the failing batch (a batch is not all-or-nothing), the rest in order after the retry.
		const applied = world.model.messages.map((m) => m.client_id);
		expect(applied.slice(0, 150)).toEqual(ids.slice(0, 150));
		expect(new Set(applied).size).toBe(300);
		expect(applied.indexOf(poisoned)).toBeLessThan(applied.indexOf(ids[200]!));
	});

	it.each([1, 2, 3, 4, 5, 6])('seed %i: exactly once and in order per room while frames are dropped, duplicated, reordered and acks lost', async (seed) => {
		const world = new World({
			seed,
			faults: { latencyMs: 3, jitterMs: 25, dropRate: 0.05, duplicateRate: 0.2, lostAckRate: 0.1 },
			retry: { maxRetries: 50, baseMs: 50, capMs: 400 },
			pushTimeoutMs: 500
		});
		const tab = world.tab('ann', { batchesInFlight: 4, maxBatch: 10 });
		await tab.outbox.ready;
		const made: Record<string, string[]> = { 'room:a': [], 'room:b': [] };
		for (let i = 0; i < 160; i++) {
			const topic = i % 4 === 3 ? 'room:b' : 'room:a';
			made[topic]!.push((await tab.outbox.add('send_message', topic, { body: `${i}` })).id);
			if (i % 40 === 39) await world.run(20, 5);
		}
		await world.until(() => tab.outbox.count === 0, 300_000, 'queue drained');
		for (const [topic, ids] of Object.entries(made)) {
			const room = topic.slice('room:'.length);
			const stored = world.model.messages.filter((m) => m.room === room).sort((x, y) => x.seq - y.seq);
			expect(stored.map((m) => m.client_id)).toEqual(ids);
		}
		expect(tab.types()).not.toContain('call-failed');
		// The faults did happen, and batches did go behind others.
		expect(tab.pair.network.log.some((f) => f.copies === 2)).toBe(true);
		expect(tab.pair.server.receivedOf('send_batch').some((r) => r.payload.after !== undefined)).toBe(true);
	});
});
