import { describe, expect, it } from 'vitest';
import { createQueueState, itemsOfTopic, listItems, countItems } from '../../../src/lib/outbox/core/queue-state.js';
import type { QueueState } from '../../../src/lib/outbox/core/queue-state.js';
import { reduceQueue } from '../../../src/lib/outbox/core/queue.js';
import { planFlush } from '../../../src/lib/outbox/core/plan.js';
import type { Failure } from '../../../src/lib/outbox/core/queue-item.js';
import { item } from './fixtures.js';

const internal: Failure = { kind: 'error', reason: 'internal' };

function fresh(maxRetries = 5): QueueState {
	return createQueueState({ maxRetries, baseMs: 1000, capMs: 10_000, networkDelayMs: 500, random: () => 0.5 });
}

const types = (r: { events: { type: string }[] }) => r.events.map((e) => e.type);

describe('queue reducer', () => {
	it('adds items as queued, reports them changed and emits call-queued', () => {
		const state = fresh();
		const a = item({ id: 'a' });
		const b = item({ id: 'b' });
		const r = reduceQueue(state, { type: 'added', items: [a, b] });
		expect(r.changed).toEqual(['a', 'b']);
		expect(r.removed).toEqual([]);
		expect(types(r)).toEqual(['call-queued', 'call-queued']);
		expect(countItems(state)).toBe(2);
		expect(state.counts).toEqual({ queued: 2, sending: 0, failed: 0 });
		expect(state.version).toBe(1);
	});

	it('refuses an id it already holds, changing nothing', () => {
		const state = fresh();
		reduceQueue(state, { type: 'added', items: [item({ id: 'a' })] });
		expect(() => reduceQueue(state, { type: 'added', items: [item({ id: 'b' }), item({ id: 'a' })] })).toThrow(/fresh id/);
		expect(countItems(state)).toBe(1);
	});

	it('confirms: removes the item, reports it removed, emits call-reconciled with the reply', () => {
		const state = fresh();
		reduceQueue(state, { type: 'added', items: [item({ id: 'a' })] });
		const start = reduceQueue(state, { type: 'sendStarted', ids: ['a'], now: 10 });
		expect(start.changed).toEqual(['a']);
		expect(types(start)).toEqual(['queue-processing-start']);
		expect(state.items.get('a')?.status).toBe('sending');
		const r = reduceQueue(state, { type: 'succeeded', id: 'a', response: { message: { seq: 1 } } });
		expect(r.removed).toEqual(['a']);
		expect(r.changed).toEqual([]);
		expect(r.events).toMatchObject([{ type: 'call-reconciled', detail: { response: { message: { seq: 1 } } } }]);
		expect(countItems(state)).toBe(0);
		const done = reduceQueue(state, { type: 'idle', now: 30 });
		expect(done.events).toEqual([{ type: 'queue-processing-complete', detail: { startedAt: 10, finishedAt: 30, reconciled: 1, failed: 0, remaining: 0 } }]);
	});

	it('ignores a late or duplicated reply for an item already gone', () => {
		const state = fresh();
		const r = reduceQueue(state, { type: 'succeeded', id: 'nope', response: {} });
		expect(r.changed).toEqual([]);
		expect(r.removed).toEqual([]);
		expect(r.events).toEqual([]);
		expect(state.version).toBe(0);
	});

	it('throws when asked to send an item that is not queued', () => {
		const state = fresh();
		reduceQueue(state, { type: 'added', items: [item({ id: 'a' })] });
		reduceQueue(state, { type: 'sendStarted', ids: ['a'], now: 0 });
		expect(() => reduceQueue(state, { type: 'sendStarted', ids: ['a'], now: 0 })).toThrow(/only queued items/);
		expect(() => reduceQueue(state, { type: 'sendStarted', ids: ['zz'], now: 0 })).toThrow(/not in the queue/);
	});

	it('retries with backoff, then after maxRetries marks the item failed and keeps it', () => {
		const state = fresh(2);
		reduceQueue(state, { type: 'added', items: [item({ id: 'a' })] });
		let now = 0;
		const delays: number[] = [];
		for (let attempt = 1; attempt <= 3; attempt++) {
			reduceQueue(state, { type: 'sendStarted', ids: ['a'], now });
			const r = reduceQueue(state, { type: 'failed', id: 'a', failure: internal, now });
			const it = state.items.get('a');
			if (attempt < 3) {
				expect(it?.status).toBe('queued');
				expect(r.events).toEqual([]);
				delays.push((it?.nextAttemptAt ?? 0) - now);
				now = it?.nextAttemptAt ?? now;
			} else {
				expect(it).toMatchObject({ status: 'failed', attempts: 3, lastError: { reason: 'internal', at: now }, nextAttemptAt: null });
				expect(types(r)).toEqual(['call-failed']);
				expect(r.changed).toEqual(['a']);
			}
		}
		expect(delays).toEqual([500, 1000]); // random 0.5 of 1000 * 2^(n-1)
		expect(countItems(state)).toBe(1);
		expect(planFlush(state, now + 1e9, { isBatchable: () => true })).toEqual([]);
	});

	it('does not charge a closed socket: attempts stay, the item waits a short while', () => {
		const state = fresh(0);
		reduceQueue(state, { type: 'added', items: [item({ id: 'a' })] });
		for (let i = 0; i < 10; i++) {
			reduceQueue(state, { type: 'sendStarted', ids: ['a'], now: i * 1000 });
			reduceQueue(state, { type: 'failed', id: 'a', failure: { kind: 'closed' }, now: i * 1000 });
		}
		expect(state.items.get('a')).toMatchObject({ status: 'queued', attempts: 0, lastError: { reason: 'closed' }, nextAttemptAt: 9000 + 250 });
	});

	it('asks for a sync of the topic on conflict, and for sign-in on unauthorized', () => {
		const state = fresh();
		reduceQueue(state, { type: 'added', items: [item({ id: 'a', topic: 'room:x' }), item({ id: 'b', topic: 'room:y' })] });
		reduceQueue(state, { type: 'sendStarted', ids: ['a', 'b'], now: 0 });
		const c = reduceQueue(state, { type: 'failed', id: 'a', failure: { kind: 'error', reason: 'conflict' }, now: 1 });
		expect(c.syncTopics).toEqual(['room:x']);
		expect(c.signInRequired).toBe(false);
		const u = reduceQueue(state, { type: 'failed', id: 'b', failure: { kind: 'error', reason: 'unauthorized' }, now: 1 });
		expect(u.signInRequired).toBe(true);
		expect(types(u)).toEqual(['call-rolled-back', 'state-rolled-back', 'call-failed']);
		expect(state.counts.failed).toBe(2);
	});

	it('ignores a failure report for an item that is not in flight', () => {
		const state = fresh();
		reduceQueue(state, { type: 'added', items: [item({ id: 'a' })] });
		const r = reduceQueue(state, { type: 'failed', id: 'a', failure: internal, now: 0 });
		expect(r.changed).toEqual([]);
		expect(state.items.get('a')?.status).toBe('queued');
	});

	it('retry(id) puts a failed item back in its lane, in creation order, with attempts reset', () => {
		const state = fresh(0);
		reduceQueue(state, { type: 'added', items: [item({ id: 'a', createdAt: 1 }), item({ id: 'b', createdAt: 2 })] });
		reduceQueue(state, { type: 'sendStarted', ids: ['a'], now: 0 });
		reduceQueue(state, { type: 'failed', id: 'a', failure: internal, now: 0 });
		expect(planFlush(state, 0, { isBatchable: () => true })[0]?.items.map((i) => i.id)).toEqual(['b']);
		const r = reduceQueue(state, { type: 'retry', id: 'a' });
		expect(r.changed).toEqual(['a']);
		expect(state.items.get('a')).toMatchObject({ status: 'queued', attempts: 0, lastError: null, nextAttemptAt: null });
		expect(planFlush(state, 0, { isBatchable: () => true })[0]?.items.map((i) => i.id)).toEqual(['a', 'b']);
	});

	it('retry(id) on an item waiting on backoff makes it ready now', () => {
		const state = fresh();
		reduceQueue(state, { type: 'added', items: [item({ id: 'a' })] });
		reduceQueue(state, { type: 'sendStarted', ids: ['a'], now: 0 });
		reduceQueue(state, { type: 'failed', id: 'a', failure: internal, now: 0 });
		expect(planFlush(state, 0, { isBatchable: () => true })).toEqual([]);
		reduceQueue(state, { type: 'retry', id: 'a' });
		expect(planFlush(state, 0, { isBatchable: () => true })).toHaveLength(1);
		expect(state.items.get('a')?.attempts).toBe(1); // still charged: only a failed item starts afresh
	});

	it('discard removes a queued or failed item with rollback events, but cannot recall one in flight', () => {
		const state = fresh();
		reduceQueue(state, { type: 'added', items: [item({ id: 'a' }), item({ id: 'b' })] });
		reduceQueue(state, { type: 'sendStarted', ids: ['a'], now: 0 });
		const none = reduceQueue(state, { type: 'discard', id: 'a' });
		expect(none.removed).toEqual([]);
		const r = reduceQueue(state, { type: 'discard', id: 'b' });
		expect(r.removed).toEqual(['b']);
		expect(r.events).toMatchObject([
			{ type: 'call-rolled-back', detail: { reason: 'discarded', item: { id: 'b' } } },
			{ type: 'state-rolled-back', detail: { topic: 'room:lobby', ids: ['b'] } }
		]);
	});

	it('removed takes an item out silently; cleared empties everything', () => {
		const state = fresh();
		reduceQueue(state, { type: 'added', items: [item({ id: 'a' }), item({ id: 'b', topic: 'room:z' }), item({ id: 'c' })] });
		const r = reduceQueue(state, { type: 'removed', id: 'a' });
		expect(r).toMatchObject({ removed: ['a'], events: [] });
		const c = reduceQueue(state, { type: 'cleared' });
		expect(c.removed.sort()).toEqual(['b', 'c']);
		expect(countItems(state)).toBe(0);
		expect(state.lanes.size).toBe(0);
		expect(state.topics.size).toBe(0);
		expect(state.counts).toEqual({ queued: 0, sending: 0, failed: 0 });
	});

	it('restores from storage: sending comes back queued and is rewritten; others are not rewritten', () => {
		const state = fresh();
		const r = reduceQueue(state, {
			type: 'restored',
			items: [item({ id: 'b', status: 'sending' }), item({ id: 'a', status: 'failed', lastError: { reason: 'invalid', at: 1 } }), item({ id: 'c' })]
		});
		expect(r.changed).toEqual(['b']);
		expect(r.events).toEqual([]);
		expect(state.items.get('b')?.status).toBe('queued');
		expect(state.counts).toEqual({ queued: 2, sending: 0, failed: 1 });
	});

	it('flushRequested readies waiting items: all, or only those held by a network failure', () => {
		const state = fresh();
		reduceQueue(state, {
			type: 'restored',
			items: [
				item({ id: 'n', topic: 'room:1', lastError: { reason: 'closed', at: 0 }, nextAttemptAt: 999 }),
				item({ id: 'r', topic: 'room:2', lastError: { reason: 'rate_limited', at: 0 }, nextAttemptAt: 999 })
			]
		});
		const net = reduceQueue(state, { type: 'flushRequested', scope: 'network' });
		expect(net.changed).toEqual(['n']);
		expect(planFlush(state, 0, { isBatchable: () => true }).map((b) => b.topic)).toEqual(['room:1']);
		const all = reduceQueue(state, { type: 'flushRequested', scope: 'all' });
		expect(all.changed).toEqual(['r']);
		expect(planFlush(state, 0, { isBatchable: () => true })).toHaveLength(2);
	});

	it('applies another tab\'s changes verbatim', () => {
		const state = fresh();
		reduceQueue(state, { type: 'added', items: [item({ id: 'a' }), item({ id: 'b' })] });
		const sending = { ...(state.items.get('a') as ReturnType<typeof item>), status: 'sending' as const };
		const r = reduceQueue(state, { type: 'replicated', items: [sending], removedIds: ['b'] });
		expect(r.changed).toEqual(['a']);
		expect(r.removed).toEqual(['b']);
		expect(state.items.get('a')).toBe(sending);
	});

	it('replaces changed items and keeps unchanged ones by identity', () => {
		const state = fresh();
		reduceQueue(state, { type: 'added', items: [item({ id: 'a' }), item({ id: 'b' })] });
		const a = state.items.get('a');
		const b = state.items.get('b');
		reduceQueue(state, { type: 'sendStarted', ids: ['a'], now: 0 });
		expect(state.items.get('a')).not.toBe(a);
		expect(a?.status).toBe('queued'); // the old object was not mutated
		expect(state.items.get('b')).toBe(b);
	});

	it('lists items in creation order, and per topic', () => {
		const state = fresh();
		reduceQueue(state, { type: 'restored', items: [item({ id: 'c', createdAt: 3, topic: 'room:t' }), item({ id: 'a', createdAt: 1 }), item({ id: 'b', createdAt: 2, topic: 'room:t' })] });
		expect(listItems(state).map((i) => i.id)).toEqual(['a', 'b', 'c']);
		expect(itemsOfTopic(state, 'room:t').map((i) => i.id)).toEqual(['b', 'c']);
		expect(itemsOfTopic(state, 'room:none')).toEqual([]);
	});

	it('counts a run\'s failures and ends it only when nothing is in flight', () => {
		const state = fresh(0);
		reduceQueue(state, { type: 'added', items: [item({ id: 'a' }), item({ id: 'b' })] });
		reduceQueue(state, { type: 'sendStarted', ids: ['a', 'b'], now: 0 });
		reduceQueue(state, { type: 'failed', id: 'a', failure: { kind: 'error', reason: 'invalid' }, now: 1 });
		expect(reduceQueue(state, { type: 'idle', now: 2 }).events).toEqual([]);
		reduceQueue(state, { type: 'succeeded', id: 'b', response: {} });
		expect(reduceQueue(state, { type: 'idle', now: 3 }).events).toMatchObject([
			{ type: 'queue-processing-complete', detail: { reconciled: 1, failed: 1, remaining: 1 } }
		]);
	});

	it('takes 10,000 single adds without a whole-queue copy per add', () => {
		const state = fresh();
		const many = Array.from({ length: 10_000 }, (_, i) => item({ id: `z${String(i).padStart(6, '0')}`, createdAt: i }));
		const items = state.items;
		for (const it of many) {
			const r = reduceQueue(state, { type: 'added', items: [it] });
			if (r.changed.length !== 1 || r.state.items !== items) throw new Error('expected one changed id per add, in the same container');
		}
		expect(countItems(state)).toBe(10_000);
		expect(state.version).toBe(10_000); // one bump per add, no rebuild (timing is in the benchmarks)
	});
});
