import { describe, expect, it } from 'vitest';
import { createQueueState } from '../../../src/lib/outbox/core/queue-state.js';
import type { QueueState } from '../../../src/lib/outbox/core/queue-state.js';
import { reduceQueue } from '../../../src/lib/outbox/core/queue.js';
import { isLaneFlushed, nextWakeAt, planFlush } from '../../../src/lib/outbox/core/plan.js';
import { Lane } from '../../../src/lib/outbox/core/lane.js';
import type { QueueItem } from '../../../src/lib/outbox/core/queue-item.js';
import { item } from './fixtures.js';

const NOW = 50_000;
const CHAT = new Set(['send_message', 'edit_message', 'delete_message', 'mark_read']);
const isBatchable = (type: string) => CHAT.has(type);
const ids = (state: QueueState, maxBatch?: number, now = NOW) =>
	Object.fromEntries(planFlush(state, now, { maxBatch, isBatchable }).map((b) => [b.topic, b.items.map((i) => i.id)]));

function queueWith(...items: QueueItem[]): QueueState {
	const state = createQueueState({ random: () => 0.5 });
	reduceQueue(state, { type: 'restored', items });
	return state;
}

describe('the flush planner', () => {
	it('returns each lane in creation order, whatever order storage gave', () => {
		const a = item({ id: 'a', createdAt: 1 });
		const b = item({ id: 'b', createdAt: 2 });
		const c = item({ id: 'c', createdAt: 2 });
		expect(ids(queueWith(c, a, b))).toEqual({ 'room:lobby': ['a', 'b', 'c'] });
	});

	it('sends a type that is not batchable alone, and cuts a batch before one', () => {
		const state = queueWith(item({ id: 'a' }), item({ id: 'b' }), item({ id: 'c', type: 'todo_add' }), item({ id: 'd' }));
		expect(planFlush(state, NOW, { isBatchable })).toEqual([{ topic: 'room:lobby', items: [state.items.get('a'), state.items.get('b')], batchable: true }]);
		reduceQueue(state, { type: 'sendStarted', ids: ['a', 'b'], now: NOW });
		reduceQueue(state, { type: 'succeeded', id: 'a', response: {} });
		reduceQueue(state, { type: 'succeeded', id: 'b', response: {} });
		expect(planFlush(state, NOW, { isBatchable })).toEqual([{ topic: 'room:lobby', items: [state.items.get('c')], batchable: false }]);
		// With no batchable types at all (the kit's default), every item goes alone.
		expect(planFlush(queueWith(item({ id: 'x' }), item({ id: 'y' })), NOW).map((b) => b.items.length)).toEqual([1]);
	});

	it('says when a lane is flushed: nothing in flight, nothing ready', () => {
		const state = queueWith(item({ id: 'a' }));
		expect(isLaneFlushed(state, 'room:lobby', NOW)).toBe(false);
		reduceQueue(state, { type: 'sendStarted', ids: ['a'], now: NOW });
		expect(isLaneFlushed(state, 'room:lobby', NOW)).toBe(false);
		reduceQueue(state, { type: 'failed', id: 'a', failure: { kind: 'error', reason: 'internal' }, now: NOW });
		expect(isLaneFlushed(state, 'room:lobby', NOW)).toBe(true); // waiting on backoff
		expect(isLaneFlushed(state, 'room:other', NOW)).toBe(true);
	});

	it('stops a lane at an item waiting on backoff: later items wait (hold on retryable)', () => {
		const state = queueWith(
			item({ id: 'a', lastError: { reason: 'internal', at: 1 }, nextAttemptAt: NOW + 1 }),
			item({ id: 'b' })
		);
		expect(ids(state)).toEqual({});
		expect(nextWakeAt(state)).toBe(NOW + 1);
		expect(ids(state, undefined, NOW + 1)).toEqual({ 'room:lobby': ['a', 'b'] });
	});

	it('holds a lane while its head is in flight', () => {
		const state = queueWith(item({ id: 'a' }), item({ id: 'b' }));
		reduceQueue(state, { type: 'sendStarted', ids: ['a'], now: NOW });
		expect(ids(state)).toEqual({});
	});

	it('skips permanently failed items: the lane goes on', () => {
		const state = queueWith(
			item({ id: 'a', status: 'failed', lastError: { reason: 'invalid', at: 1 } }),
			item({ id: 'b' }),
			item({ id: 'c', status: 'failed', lastError: { reason: 'forbidden', at: 1 } }),
			item({ id: 'd' })
		);
		expect(ids(state)).toEqual({ 'room:lobby': ['b', 'd'] });
	});

	it('keeps lanes independent: one held room does not block another', () => {
		const state = queueWith(
			item({ id: 'a1', topic: 'room:a', nextAttemptAt: NOW + 5000, lastError: { reason: 'rate_limited', at: 1 } }),
			item({ id: 'a2', topic: 'room:a' }),
			item({ id: 'b1', topic: 'room:b' }),
			item({ id: 'b2', topic: 'room:b' }),
			item({ id: 'c1', topic: 'room:c', status: 'failed', lastError: { reason: 'invalid', at: 1 } })
		);
		expect(ids(state)).toEqual({ 'room:b': ['b1', 'b2'] });
	});

	it('cuts a lane at maxBatch (default 100, the send_batch limit)', () => {
		const many = Array.from({ length: 250 }, (_, i) => item({ id: `x${String(i).padStart(4, '0')}`, createdAt: i }));
		const state = queueWith(...many);
		expect(ids(state)['room:lobby']).toHaveLength(100);
		expect(ids(state, 7)['room:lobby']).toEqual(many.slice(0, 7).map((i) => i.id));
		expect(() => planFlush(state, NOW, { maxBatch: 101 })).toThrow(TypeError);
	});

	it('drains a 10,000-item queue over 3 lanes in batches, every item once (timing is in the benchmarks)', () => {
		const many = Array.from({ length: 10_000 }, (_, i) => item({ id: `q${String(i).padStart(6, '0')}`, createdAt: i, topic: `room:${i % 3}` }));
		const state = queueWith(...many);
		let confirmed = 0;
		let batchesSent = 0;
		for (;;) {
			const batches = planFlush(state, NOW, { isBatchable });
			if (batches.length === 0) break;
			for (const batch of batches) {
				batchesSent++;
				reduceQueue(state, { type: 'sendStarted', ids: batch.items.map((i) => i.id), now: NOW });
				for (const i of batch.items) {
					reduceQueue(state, { type: 'succeeded', id: i.id, response: {} });
					confirmed++;
				}
			}
		}
		expect(confirmed).toBe(10_000);
		expect(state.items.size).toBe(0);
		expect(batchesSent).toBe(3 * Math.ceil(10_000 / 3 / 100));
	});
});

describe('Lane', () => {
	const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
	it('appends, inserts out of order in place, and removes at head and middle', () => {
		const lane = new Lane();
		for (const id of ['b', 'd', 'f']) lane.insert(id, cmp);
		lane.insert('a', cmp);
		lane.insert('e', cmp);
		expect([...lane]).toEqual(['a', 'b', 'd', 'e', 'f']);
		expect(lane.remove('a')).toBe(true);
		expect(lane.remove('e')).toBe(true);
		expect(lane.remove('zz')).toBe(false);
		expect([...lane]).toEqual(['b', 'd', 'f']);
		expect(lane.at(0)).toBe('b');
		expect(lane.size).toBe(3);
	});

	it('compacts its dead prefix after many head removals', () => {
		const lane = new Lane();
		for (let i = 0; i < 5000; i++) lane.insert(String(i).padStart(5, '0'), cmp);
		for (let i = 0; i < 4000; i++) lane.remove(String(i).padStart(5, '0'));
		expect(lane.size).toBe(1000);
		expect(lane.at(0)).toBe('04000');
		lane.insert('00001', cmp); // out of order after compaction
		expect(lane.at(0)).toBe('00001');
	});

	it('with depth > 1, plans batches behind those in flight, each naming the one before, up to depth × maxBatch items', () => {
		const state = queueWith(...Array.from({ length: 12 }, (_, i) => item({ id: `i${String(i).padStart(2, '0')}`, createdAt: i })));
		const plan = (canFollow: (id: string) => boolean) => planFlush(state, NOW, { maxBatch: 3, isBatchable, depth: 2, canFollow });
		// Nothing in flight: the head batch (no after), then one behind it.
		expect(plan(() => true).map((b) => [b.items.map((i) => i.id), b.after])).toEqual([
			[['i00', 'i01', 'i02'], undefined],
			[['i03', 'i04', 'i05'], 'i02']
		]);
		reduceQueue(state, { type: 'sendStarted', ids: ['i00', 'i01', 'i02'], now: NOW });
		// One batch in flight: the room left is one batch, behind it, only if the in-flight one may be named.
		expect(plan((id) => id === 'i02').map((b) => [b.items.map((i) => i.id), b.after])).toEqual([[['i03', 'i04', 'i05'], 'i02']]);
		expect(plan(() => false)).toEqual([]);
		// Not past a type that is not batchable, nor past an item waiting on backoff.
		const mixed = queueWith(item({ id: 'a', createdAt: 1 }), item({ id: 'b', createdAt: 2 }), item({ id: 'c', createdAt: 3, type: 'todo_add' }));
		reduceQueue(mixed, { type: 'sendStarted', ids: ['a'], now: NOW });
		expect(planFlush(mixed, NOW, { isBatchable, depth: 4, canFollow: () => true }).map((b) => b.items.map((i) => i.id))).toEqual([['b']]);
		expect(() => planFlush(mixed, NOW, { depth: 9 })).toThrow(/depth/);
		// A requeued item (refused out of order) is queued again as it was, uncharged.
		reduceQueue(mixed, { type: 'requeued', ids: ['a'] });
		expect(mixed.items.get('a')).toMatchObject({ status: 'queued', attempts: 0, nextAttemptAt: null });
	});

	it('with depth > 1, a batch goes behind the lane\'s item just before it only when that is the last push in flight', () => {
		// Another tab's m5 and m6 (made before m8) arrive while a and then m8 are in flight: pushing m5
		// behind a would let the server apply it behind m8 out of the pushes' order, or refuse it while
		// later ones of the same tab go through (fault seed 8, PostgreSQL, 3 nodes): the lane waits.
		const state = queueWith(item({ id: 'a', createdAt: 1 }), item({ id: 'm8', createdAt: 8 }));
		reduceQueue(state, { type: 'sendStarted', ids: ['a'], now: NOW });
		reduceQueue(state, { type: 'sendStarted', ids: ['m8'], now: NOW });
		reduceQueue(state, { type: 'replicated', items: [item({ id: 'm5', createdAt: 5 }), item({ id: 'm6', createdAt: 6 })], removedIds: [] });
		const plan = (chainEnd: string | undefined) =>
			planFlush(state, NOW, { isBatchable, depth: 4, canFollow: () => true, chainEnd: () => chainEnd }).map((b) => [b.items.map((i) => i.id), b.after]);
		expect(plan('m8')).toEqual([]);
		// Once m8 settled (a still in flight), m5 and m6 go behind a.
		reduceQueue(state, { type: 'succeeded', id: 'm8', response: {} });
		expect(plan('a')).toEqual([[['m5', 'm6'], 'a']]);
		// A lane whose later pushes are still out (m5 and m6 in flight, m10 new) waits for them in push order.
		reduceQueue(state, { type: 'sendStarted', ids: ['m5', 'm6'], now: NOW });
		reduceQueue(state, { type: 'replicated', items: [item({ id: 'm10', createdAt: 10 })], removedIds: [] });
		expect(plan('m6')).toEqual([[['m10'], 'm6']]);
		expect(plan('a')).toEqual([]);
	});
});
