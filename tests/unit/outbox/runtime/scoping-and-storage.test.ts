import { describe, expect, it } from 'vitest';
import { isStorageError } from '../../../../src/lib/outbox/ports.js';
import { FakeClock, MemoryStorage } from '../../../../src/lib/outbox/testing/index.js';
import type { Outbox } from '../../../../src/lib/outbox/index.js';
import { World } from './harness.js';

const ROOM = 'room:lobby';

describe('engine storage and users', () => {
	it('scopes the queue to the user: another user never sees or sends it, and switching back restores it', async () => {
		const world = new World();
		const tab = world.tab('ann');
		await tab.outbox.ready;
		tab.pair.setReachable(false);
		await world.run(50);
		const a1 = await tab.outbox.add('send_message', ROOM, { body: 'ann 1' });
		const a2 = await tab.outbox.add('send_message', ROOM, { body: 'ann 2' });

		await tab.outbox.setUser({ id: 'bob', name: 'bob' });
		expect(tab.outbox.count).toBe(0);
		expect(tab.outbox.list()).toEqual([]);
		const b1 = await tab.outbox.add('send_message', ROOM, { body: 'bob 1' });
		expect(world.storage.snapshot('ann').map((i) => i.id)).toEqual([a1.id, a2.id]);
		expect(world.storage.snapshot('bob').map((i) => i.id)).toEqual([b1.id]);

		// The memory server attributes every push on this pair to "ann": record what arrives instead.
		tab.pair.setReachable(true);
		await world.until(() => tab.outbox.count === 0, 10_000, "bob's queue drained");
		const sent = tab.pair.server.received.map((r) => r.payload.client_id);
		expect(sent).toEqual([b1.id]);

		await tab.outbox.setUser('ann');
		expect(tab.outbox.list().map((i) => i.id)).toEqual([a1.id, a2.id]);
		await world.until(() => tab.outbox.count === 0, 10_000, "ann's queue drained");
		const batches = tab.pair.server.receivedOf('send_batch').map((r) => (r.payload.actions as Array<{ client_id: string }>).map((a) => a.client_id));
		expect(batches.flat()).toEqual([a1.id, a2.id]);
	});

	it('refuses an add on a quota error: add rejects, nothing is lost, the error state is set, then clears', async () => {
		const world = new World();
		const tab = world.tab('ann');
		await tab.outbox.ready;
		tab.pair.setReachable(false);
		const kept = await tab.outbox.add('send_message', ROOM, { body: 'kept' });
		const errors: unknown[] = [];
		tab.outbox.error.subscribe((e) => errors.push(e));

		world.storage.failWith('quota', { times: 1 });
		const refused = tab.outbox.add('send_message', ROOM, { body: 'too much' });
		await expect(refused).rejects.toSatisfy((e: unknown) => isStorageError(e, 'quota'));
		expect(tab.outbox.error.get()).toMatchObject({ kind: 'quota' });
		expect(tab.outbox.list().map((i) => i.id)).toEqual([kept.id]);
		expect(world.storage.snapshot('ann').map((i) => i.id)).toEqual([kept.id]);
		expect(tab.types().filter((t) => t === 'call-queued')).toHaveLength(1);

		await tab.outbox.add('send_message', ROOM, { body: 'fits again' });
		expect(tab.outbox.error.get()).toBeNull();
		expect(errors).toEqual([null, expect.objectContaining({ kind: 'quota' }), null]);
		expect(tab.outbox.count).toBe(2);
	});

	it('persists before add resolves and restores a queue after a restart', async () => {
		const world = new World();
		const first = world.tab('ann');
		await first.outbox.ready;
		first.pair.setReachable(false);
		const item = await first.outbox.add('send_message', ROOM, { body: 'survives' });
		expect(world.storage.snapshot('ann')).toEqual([item]);
		await first.outbox.close();

		const second = world.tab('ann');
		await second.outbox.ready;
		expect(second.outbox.list()).toEqual([item]);
		await world.until(() => second.outbox.count === 0, 10_000, 'restored item sent');
		expect(world.model.messages.map((m) => m.client_id)).toEqual([item.id]);
	});

	it('rejects an invalid payload before queueing it, and throws for an unknown type or no user', async () => {
		const world = new World();
		const tab = world.tab('ann');
		await tab.outbox.ready;
		await expect(tab.outbox.add('send_message', ROOM, { body: '   ' })).rejects.toMatchObject({ name: 'ActionValidationError', reason: 'invalid' });
		await expect(tab.outbox.add('send_message', ROOM, { body: 'x', author: 'me' } as { body: string })).rejects.toMatchObject({ reason: 'invalid' });
		expect(() => (tab.outbox as unknown as Outbox).add('launch_rocket', ROOM, {})).toThrow(/declare it/);
		expect(tab.outbox.count).toBe(0);
		const signedOut = world.tab(null);
		expect(() => signedOut.outbox.add('send_message', ROOM, { body: 'x' })).toThrow(/setUser/);
	});
});

describe('engine tabs', () => {
	it('lets only the leader send, shows followers live statuses, and hands over mid-flush with every item confirmed once', async () => {
		const world = new World({ faults: { latencyMs: 20 } });
		const leader = world.tab('ann');
		const follower = world.tab('ann');
		await Promise.all([leader.outbox.ready, follower.outbox.ready]);
		expect(leader.outbox.isLeader).toBe(true);
		expect(follower.outbox.isLeader).toBe(false);

		// Both tabs add while offline; the follower sees the leader's items and vice versa.
		leader.pair.setReachable(false);
		follower.pair.setReachable(false);
		const ids: string[] = [];
		for (let i = 0; i < 30; i++) {
			// A millisecond apart: ids of two tabs made in the same millisecond have no order between them.
			await world.run(1, 1);
			ids.push((await (i % 2 ? follower : leader).outbox.add('send_message', ROOM, { body: `t${i}` })).id);
		}
		await world.run(50);
		expect(follower.outbox.list().map((i) => i.id)).toEqual(ids);
		expect(leader.outbox.list().map((i) => i.id)).toEqual(ids);

		// Back online: only the leader pushes. Its first batch is applied but the ack is lost,
		// and the leader closes while it waits: the follower must take over without duplicates.
		world.model.swallowReplies = 1;
		leader.pair.setReachable(true);
		follower.pair.setReachable(true);
		await world.until(() => leader.pair.server.receivedOf('send_batch').length === 1, 5_000, 'first batch at the server');
		await world.run(100, 10);
		expect(world.model.messages).toHaveLength(30);
		expect(leader.outbox.list().every((i) => i.status === 'sending')).toBe(true);
		expect(follower.outbox.list().every((i) => i.status === 'sending')).toBe(true); // live status from the leader
		expect(follower.pair.server.received.filter((r) => r.event !== 'sync' && r.event !== 'history')).toHaveLength(0);
		await leader.outbox.close();
		expect(follower.outbox.isLeader).toBe(true);

		await world.until(() => follower.outbox.count === 0, 20_000, 'the new leader drained the queue');
		expect(world.model.messages.map((m) => m.client_id)).toEqual(ids); // each once, in order
		expect(follower.pair.server.receivedOf('send_batch').length).toBeGreaterThan(0);
		expect(world.storage.snapshot('ann')).toEqual([]);
	});

	it('a tab that just became the leader sends nothing before it has read the queue from storage, so nothing goes twice', async () => {
		const storage = new SlowReadStorage();
		const world = new World({ storage });
		storage.clock = world.clock;
		const leader = world.tab('ann');
		const follower = world.tab('ann');
		await Promise.all([leader.outbox.ready, follower.outbox.ready]);
		await world.run(50);
		leader.pair.setReachable(false); // the old leader cannot send what is added
		await world.run(50);
		const ids = [(await follower.outbox.add('send_message', ROOM, { body: 'one' })).id, (await follower.outbox.add('send_message', ROOM, { body: 'two' })).id];
		await world.run(50);
		const reconciled: string[] = [];
		follower.outbox.events.on('call-reconciled', ({ item }) => reconciled.push(item.id));

		// The leader goes; the follower leads and reads the queue from storage (slowly, as IndexedDB
		// may), while something asks it to send: what it sends meanwhile must not come back from that read.
		storage.readDelayMs = 200;
		void leader.outbox.close();
		expect(follower.outbox.isLeader).toBe(true);
		void follower.outbox.flush();

		await world.until(() => follower.outbox.count === 0, 5_000, 'the new leader drained the queue');
		await world.run(500);
		const pushed = follower.pair.server.received
			.filter((r) => r.event === 'send_batch' || r.event === 'send_message')
			.flatMap((r) => (r.event === 'send_batch' ? (r.payload.actions as Array<{ client_id: string }>).map((a) => a.client_id) : [String(r.payload.client_id)]));
		expect(pushed).toEqual(ids);
		expect(reconciled).toEqual(ids);
		expect(follower.outbox.count).toBe(0);
		expect(world.model.messages.map((m) => m.client_id)).toEqual(ids);
	});
});

/** Memory storage whose reads take `readDelayMs` of fake time (IndexedDB is not instant). */
class SlowReadStorage extends MemoryStorage {
	clock: FakeClock | null = null;
	readDelayMs = 0;
	override async getAll(namespace: string) {
		const items = await super.getAll(namespace);
		if (this.readDelayMs > 0 && this.clock) await new Promise<void>((resolve) => this.clock!.setTimeout(resolve, this.readDelayMs));
		return items;
	}
}
