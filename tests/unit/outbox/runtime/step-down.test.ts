/**
 * A leader that loses its lease while a push is in flight (a frozen tab
 * resumed, a hand-over) steps down for good: the push's late reply is
 * ignored, its copy is read again from storage, and nothing it still had in
 * hand reaches storage or the other tabs. Found by the fault schedules
 * (`--kinds freeze`): a resumed ex-leader told the other tabs that items the
 * new leader had since confirmed were `sending` again, and a follower held
 * them for good.
 */
import { describe, expect, it } from 'vitest';
import { createQueueItem } from '../../../../src/lib/outbox/core/queue-item.js';
import type { TabCoordinator, TabMessage } from '../../../../src/lib/outbox/ports.js';
import { QueueStore } from '../../../../src/lib/outbox/runtime/queue-store.js';
import { MemoryStorage } from '../../../../src/lib/outbox/testing/memory-storage.js';
import { error } from '../../../../src/lib/outbox/testing/memory-server.js';
import { World } from './harness.js';

const ROOM = 'room:lobby';

describe('a leader that steps down', () => {
	it('ignores its late reply and leaves the queue to the new leader: each action is pushed once by each', async () => {
		const world = new World({ pushTimeoutMs: 2000 });
		const a = world.tab('ann');
		const b = world.tab('ann');
		await a.outbox.ready;
		await b.outbox.ready;
		await world.run(200);
		expect(a.outbox.isLeader).toBe(true);

		world.model.swallowReplies = 1; // the server applies it; A never hears back
		const { id } = await a.outbox.add('send_message', ROOM, { body: 'hello' });
		await world.until(() => a.pair.server.received.some((r) => r.payload.client_id === id), 5_000, 'A pushed');
		expect(a.outbox.list().find((item) => item.id === id)?.status).toBe('sending');

		b.connectivity.set({ online: false }); // the new leader cannot send yet
		world.hub.handOver(b.outbox.deps.tabs);
		await world.run(300);
		// A's copy is storage's again: the push it had in flight is no longer its own.
		expect(a.outbox.list().map((item) => `${item.id}:${item.status}`)).toEqual([`${id}:queued`]);

		b.connectivity.set({ online: true });
		await world.until(() => b.outbox.count === 0 && a.outbox.count === 0, 20_000, 'both copies empty');
		await world.run(5_000); // past A's push timeout: its late settle must change nothing

		expect(a.outbox.count).toBe(0);
		expect(b.outbox.count).toBe(0);
		expect(world.storage.snapshot('ann')).toEqual([]);
		// A pushed once (before it stepped down); B once on taking over, and never again.
		const pushesOf = (tab: typeof a) => tab.pair.server.received.filter((r) => r.payload.client_id === id || (r.payload.actions as Array<{ client_id: string }> | undefined)?.some((x) => x.client_id === id)).length;
		expect(pushesOf(a)).toBe(1);
		expect(pushesOf(b)).toBe(1);
		expect(world.model.messages.map((m) => m.client_id)).toEqual([id]);
	});

	it('still shows in its views what the server confirmed after it stepped down, without touching the queue', async () => {
		const world = new World({ faults: { latencyMs: 50 } });
		const a = world.tab('ann');
		const b = world.tab('ann');
		await a.outbox.ready;
		await b.outbox.ready;
		const room = a.chat.room(ROOM);
		await world.run(500);
		const { id } = await a.outbox.add('send_message', ROOM, { body: 'hello' });
		await world.until(() => a.outbox.list().some((item) => item.id === id && item.status === 'sending'), 5_000, 'A pushed it');
		expect(world.model.messages).toEqual([]); // still on its way
		b.connectivity.set({ online: false }); // the new leader does not send it again yet
		world.model.intercept = (request) => (request.event === 'sync' ? error('internal') : undefined); // nor does a sync bring it
		world.hub.handOver(b.outbox.deps.tabs);
		await world.run(300); // the server takes it, and A's reply comes in after A stepped down
		expect(world.model.messages.map((m) => m.client_id)).toEqual([id]);

		// The server's copy is in A's room (its own change is never pushed back to it: only the reply carries it)...
		expect(room.view.get().messages.map((m) => [m.body, m.status])).toEqual([['hello', 'sent']]);
		// ...while the queue stays the new leader's: A reduced nothing (storage still holds the action, queued).
		expect(world.storage.snapshot('ann').map((item) => `${item.id}:${item.status}:${item.attempts}`)).toEqual([`${id}:queued:0`]);
	});

	it('reading its copy again names the topics of items that left storage unheard, so their views sync', async () => {
		const storage = new MemoryStorage();
		const tabs: TabCoordinator = { isLeader: () => false, subscribe: () => () => {}, broadcast() {}, onBroadcast: () => () => {}, close() {} };
		const store = new QueueStore({ storage, tabs, policy: {}, emit() {}, storageFailed() {}, storageOk() {}, changed() {} });
		await store.load('ann', { persist: true });
		const items = [
			createQueueItem({ id: 'x', type: 'send_message', topic: 'room:a', payload: { body: 'x' }, createdAt: 1 }),
			createQueueItem({ id: 'y', type: 'send_message', topic: 'room:b', payload: { body: 'y' }, createdAt: 2 })
		];
		await Promise.all(items.map((item) => store.enqueue(item)));
		// Another tab settled x and removed it; this tab never heard its reply (a frozen tab, say).
		await storage.write('ann', { remove: ['x'] });
		expect(await store.takeOver()).toEqual(['room:a']);
		expect([...store.state.items.keys()]).toEqual(['y']);
		expect(await store.takeOver()).toEqual([]);
	});

	it('shows the others its `sending` marks only while it leads', async () => {
		let leads = true;
		const heard: TabMessage[] = [];
		const storage = new MemoryStorage();
		const tabs: TabCoordinator = {
			isLeader: () => leads,
			subscribe: () => () => {},
			broadcast: (message) => void heard.push(message),
			onBroadcast: () => () => {},
			close() {}
		};
		const store = new QueueStore({ storage, tabs, policy: {}, emit() {}, storageFailed() {}, storageOk() {}, changed() {} });
		await store.load('ann', { persist: true });
		const [x, y] = ['x', 'y'].map((id) => createQueueItem({ id, type: 'send_message', topic: ROOM, payload: { body: id }, createdAt: 1 }));
		await Promise.all([store.enqueue(x!), store.enqueue(y!)]);

		heard.length = 0;
		store.apply({ type: 'sendStarted', ids: ['x'], now: 2 });
		await store.drain();
		expect(heard.flatMap((m) => (m.kind === 'queue-changed' ? m.items.map((i) => `${i.id}:${i.status}`) : []))).toEqual(['x:sending']);

		// Lease lost (a resumed tab): a mark it makes before it hears so is not shown to anyone, nor written.
		leads = false;
		heard.length = 0;
		store.apply({ type: 'sendStarted', ids: ['y'], now: 3 });
		await store.drain();
		expect(heard).toEqual([]);
		expect(storage.snapshot('ann').map((i) => `${i.id}:${i.status}`)).toEqual(['x:queued', 'y:queued']);
	});
});
