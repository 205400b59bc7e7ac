import { describe, expect, it } from 'vitest';
import { createFigureSamples, EMPTY_EVENT_FIGURES, foldFigures, percentile, queueFigures } from '../../../../src/lib/outbox/core/figures.js';
import { createQueueState } from '../../../../src/lib/outbox/core/queue-state.js';
import { reduceQueue } from '../../../../src/lib/outbox/core/queue.js';
import { outboxEvent } from '../../../../src/lib/outbox/core/events.js';
import { guardUnload, pendingTitle } from '../../../../src/lib/outbox/svelte/unload.js';
import { error } from '../../../../src/lib/outbox/testing/memory-server.js';
import { MemoryStorage } from '../../../../src/lib/outbox/testing/memory-storage.js';
import { item } from '../fixtures.js';
import { World } from './harness.js';

const ROOM = 'room:lobby';

describe('queue figures (pure)', () => {
	it('folds confirmations, failures and flushes into latency percentiles, a failure rate and the last flush', () => {
		const samples = createFigureSamples();
		let f = EMPTY_EVENT_FIGURES;
		const confirmed = (createdAt: number) => outboxEvent('call-reconciled', { item: item({ createdAt }), response: {} });
		f = foldFigures(f, samples, [confirmed(900), confirmed(500), confirmed(0)], 0, 1000);
		expect(f).toMatchObject({ confirmed: 3, latencyP50: 500, latencyP95: 1000, failureRate: 0 });
		const failed = item();
		f = foldFigures(f, samples, [outboxEvent('call-failed', { item: failed, error: { reason: 'invalid', verdict: 'fail', at: 1 }, exhausted: false })], 2, 1000);
		expect(f).toMatchObject({ failedTotal: 1, failureRate: 0.25, retries: 2 });
		f = foldFigures(f, samples, [outboxEvent('queue-processing-complete', { startedAt: 100, finishedAt: 350, reconciled: 3, failed: 1, remaining: 1 })], 0, 400);
		expect(f.lastFlush).toEqual({ confirmed: 3, failed: 1, ms: 250, at: 350 });
		expect(foldFigures(f, samples, [], 0, 500)).toBe(f); // nothing new: the same object
		expect(percentile([], 0.5)).toBeNull();
		expect(percentile([5, 1, 3, 2, 4], 0.95)).toBe(5);
	});

	it("takes the queue's shape as it is: depth, failed, the oldest unsent item", () => {
		const state = createQueueState();
		expect(queueFigures(EMPTY_EVENT_FIGURES, state)).toMatchObject({ depth: 0, failed: 0, oldestUnsentAt: null });
		reduceQueue(state, { type: 'restored', items: [item({ createdAt: 30 }), item({ createdAt: 10, status: 'failed' }), item({ createdAt: 20 })] });
		expect(queueFigures(EMPTY_EVENT_FIGURES, state)).toMatchObject({ depth: 3, failed: 1, oldestUnsentAt: 10 });
	});
});

describe('figures and storage state on the engine', () => {
	it('follows a flush: retries, a failure, latency and the last flush, without polling', async () => {
		const world = new World({ retry: { baseMs: 10, capMs: 10, random: () => 0.5 } });
		const tab = world.tab('ann', { maxBatch: 1 }); // each action its own push, so each gets its own answer
		await tab.outbox.ready;
		const seen: number[] = [];
		tab.outbox.figures.subscribe((f) => seen.push(f.depth));
		tab.pair.setReachable(false);
		await world.run(50);
		await tab.outbox.add('send_message', ROOM, { body: 'one' });
		await world.run(200);
		await tab.outbox.add('send_message', ROOM, { body: 'two' });
		expect(tab.outbox.figures.get()).toMatchObject({ depth: 2, failed: 0, oldestUnsentAt: expect.any(Number) });
		let refusals = 1;
		world.model.intercept = (request) => {
			if (request.event !== 'send_message') return undefined;
			if ((request.payload.body as string) === 'two') return error('invalid', 'no');
			if (refusals-- > 0) return error('internal');
			return undefined;
		};
		tab.pair.setReachable(true);
		await world.until(() => tab.outbox.figures.get().depth === 1, 5000, 'one confirmed, one failed');
		await world.run(100);
		const f = tab.outbox.figures.get();
		expect(f).toMatchObject({ depth: 1, failed: 1, confirmed: 1, failedTotal: 1, failureRate: 0.5 });
		expect(f.retries).toBeGreaterThanOrEqual(1);
		expect(f.latencyP50).toBeGreaterThanOrEqual(200);
		expect(f.lastFlush).toMatchObject({ confirmed: 1, failed: 1 });
		expect(seen).toContain(2);
	});

	it('says why the queue cannot be saved durably: quota, a refused persistence, localStorage only', async () => {
		const storage = new MemoryStorage();
		storage.description = { driver: 'indexeddb', persisted: false };
		const world = new World({ storage });
		const tab = world.tab('ann');
		await tab.outbox.ready;
		await world.run(10);
		expect(tab.outbox.storage.get()).toEqual({ driver: 'indexeddb', persisted: false, trouble: 'not-persistent' });
		storage.failWith('quota');
		await expect(tab.outbox.add('send_message', ROOM, { body: 'x' })).rejects.toMatchObject({ kind: 'quota' });
		expect(tab.outbox.storage.get().trouble).toBe('quota');
		storage.failWith(null);
		await tab.outbox.add('send_message', ROOM, { body: 'y' });
		expect(tab.outbox.storage.get().trouble).toBe('not-persistent');

		const small = new MemoryStorage();
		small.description = { driver: 'localstorage', persisted: true };
		const other = new World({ storage: small }).tab('bob');
		await other.outbox.ready;
		await new Promise((r) => setTimeout(r, 0));
		expect(other.outbox.storage.get().trouble).toBe('no-indexeddb');
	});

	it('dedupeKey: a double tap queues once; once the first is sent, the key is free again', async () => {
		const world = new World();
		const tab = world.tab('ann');
		await tab.outbox.ready;
		tab.pair.setReachable(false);
		await world.run(50);
		const [a, b] = await Promise.all([
			tab.outbox.add('send_message', ROOM, { body: 'hi' }, { dedupeKey: 'tap-1' }),
			tab.outbox.add('send_message', ROOM, { body: 'hi' }, { dedupeKey: 'tap-1' })
		]);
		const c = await tab.outbox.add('send_message', ROOM, { body: 'hi' }, { dedupeKey: 'tap-1' });
		expect(b.id).toBe(a.id);
		expect(c.id).toBe(a.id);
		expect(tab.outbox.count).toBe(1);
		tab.pair.setReachable(true);
		await world.until(() => tab.outbox.count === 0, 3000, 'sent');
		const d = await tab.outbox.add('send_message', ROOM, { body: 'hi' }, { dedupeKey: 'tap-1' });
		expect(d.id).not.toBe(a.id);
		expect(() => tab.outbox.add('send_message', ROOM, { body: 'x' }, { dedupeKey: '' })).toThrow(/dedupeKey/);
	});
});

describe('page helpers of the Svelte bindings', () => {
	it('pendingTitle puts the waiting count in front', () => {
		expect(pendingTitle('#lobby · Outbox', 0)).toBe('#lobby · Outbox');
		expect(pendingTitle('#lobby · Outbox', 3)).toBe('(3) #lobby · Outbox');
	});

	it('guardUnload asks to confirm only while a signed-in user has actions waiting, until stopped', () => {
		const listeners = new Set<(event: BeforeUnloadEvent) => void>();
		const target = { addEventListener: (_: 'beforeunload', l: (event: BeforeUnloadEvent) => void) => void listeners.add(l), removeEventListener: (_: 'beforeunload', l: (event: BeforeUnloadEvent) => void) => void listeners.delete(l) };
		const state = { user: { id: 'u1' } as unknown, count: 2 };
		const stop = guardUnload(state, target);
		const fire = () => {
			let prevented = false;
			const event = { preventDefault: () => void (prevented = true), returnValue: undefined as unknown } as unknown as BeforeUnloadEvent;
			for (const listener of listeners) listener(event);
			return prevented && event.returnValue === '';
		};
		expect(fire()).toBe(true);
		state.count = 0;
		expect(fire()).toBe(false);
		state.count = 1;
		state.user = null;
		expect(fire()).toBe(false);
		state.user = { id: 'u1' };
		stop();
		expect(fire()).toBe(false);
	});
});
