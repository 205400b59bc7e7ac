import { describe, expect, it } from 'vitest';
import { createQueueState } from '../../../src/lib/outbox/core/queue-state.js';
import type { QueueState } from '../../../src/lib/outbox/core/queue-state.js';
import { reduceQueue } from '../../../src/lib/outbox/core/queue.js';
import { nextBatch, nextWakeAt } from '../../../src/lib/outbox/core/lanes.js';
import { Lane } from '../../../src/lib/outbox/core/lane.js';
import type { QueueItem } from '../../../src/lib/outbox/core/queue-item.js';
import { item } from './fixtures.js';

const NOW = 50_000;
const ids = (state: QueueState, online = true, maxBatch?: number) =>
	Object.fromEntries(nextBatch(state, NOW, { online, maxBatch }).map((b) => [b.topic, b.items.map((i) => i.id)]));

function queueWith(...items: QueueItem[]): QueueState {
	const state = createQueueState({ random: () => 0.5 });
	reduceQueue(state, { type: 'restored', items });
	return state;
}

describe('lanes', () => {
	it('returns each lane in creation order, whatever order storage gave', () => {
		const a = item({ id: 'a', createdAt: 1 });
		const b = item({ id: 'b', createdAt: 2 });
		const c = item({ id: 'c', createdAt: 2 });
		expect(ids(queueWith(c, a, b))).toEqual({ 'room:lobby': ['a', 'b', 'c'] });
	});

	it('gives nothing while offline', () => {
		expect(nextBatch(queueWith(item()), NOW, { online: false })).toEqual([]);
	});

	it('stops a lane at an item waiting on backoff: later items wait (hold on retryable)', () => {
		const state = queueWith(
			item({ id: 'a', lastError: { reason: 'internal', at: 1 }, nextAttemptAt: NOW + 1 }),
			item({ id: 'b' })
		);
		expect(ids(state)).toEqual({});
		expect(nextWakeAt(state)).toBe(NOW + 1);
		expect(nextBatch(state, NOW + 1, { online: true })[0]?.items.map((i) => i.id)).toEqual(['a', 'b']);
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
		expect(ids(state, true, 7)['room:lobby']).toEqual(many.slice(0, 7).map((i) => i.id));
		expect(() => nextBatch(state, NOW, { online: true, maxBatch: 101 })).toThrow(TypeError);
	});

	it('stays cheap on a 10,000-item queue: a full drain in batches is fast', () => {
		const many = Array.from({ length: 10_000 }, (_, i) => item({ id: `q${String(i).padStart(6, '0')}`, createdAt: i, topic: `room:${i % 3}` }));
		const state = queueWith(...many);
		const started = performance.now();
		let confirmed = 0;
		for (;;) {
			const batches = nextBatch(state, NOW, { online: true });
			if (batches.length === 0) break;
			for (const batch of batches) {
				reduceQueue(state, { type: 'sendStarted', ids: batch.items.map((i) => i.id), now: NOW });
				for (const i of batch.items) {
					reduceQueue(state, { type: 'succeeded', id: i.id, response: {} });
					confirmed++;
				}
			}
		}
		expect(confirmed).toBe(10_000);
		expect(state.items.size).toBe(0);
		expect(performance.now() - started).toBeLessThan(1000);
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
});
