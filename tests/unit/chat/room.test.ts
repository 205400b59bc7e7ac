import { describe, expect, it } from 'vitest';
import { OutboxCallError, type Outbox, type QueueItem } from '../../../src/lib/outbox/index.js';
import type { Room, ViewMessage } from '../../../src/lib/chat/index.js';
import { error } from '../../../src/lib/outbox/testing/memory-server.js';
import { World } from '../outbox/runtime/harness.js';

/** Send and return the queued item (the send must not be refused). */
async function sent(room: Room, body: string): Promise<QueueItem> {
	const outcome = await room.send(body);
	if (!outcome.ok) throw new Error(`send refused: ${outcome.row.error?.message}`);
	return outcome.item;
}

const ROOM = 'room:lobby';

describe('room facade', () => {
	it('shows a sent message once from pending to sent, never twice and never gone in between', async () => {
		const world = new World();
		const tab = world.tab('ann');
		await tab.outbox.ready;
		const room = tab.chat.room(ROOM);
		await world.until(() => room.view.get().ready, 1000, 'ready');
		const seen: Array<readonly ViewMessage[]> = [];
		room.view.subscribe((view) => seen.push(view.messages));
		const item = await sent(room, 'hello');
		await world.until(() => tab.outbox.count === 0, 1000, 'sent');
		await world.run(50);
		const rows = seen.map((messages) => messages.filter((m) => m.clientId === item.id));
		const firstShown = rows.findIndex((r) => r.length === 1);
		expect(firstShown).toBeGreaterThanOrEqual(0);
		expect(rows.every((r) => r.length <= 1)).toBe(true);
		expect(rows.slice(firstShown).every((r) => r.length === 1)).toBe(true);
		expect(rows.slice(firstShown).map((r) => r[0]?.status)).toEqual(expect.arrayContaining(['pending', 'sent']));
		expect(room.messages).toEqual([expect.objectContaining({ body: 'hello', status: 'sent', seq: 1 })]);
	});

	it('pushEventAsync queues an action offline and resolves with the reply once it is confirmed', async () => {
		const world = new World();
		const tab = world.tab('ann');
		await tab.outbox.ready;
		const room = tab.chat.room(ROOM);
		tab.pair.setReachable(false);
		let reply: unknown = null;
		const pending = room.pushEventAsync('send_message', { body: 'offline' }).then((r) => (reply = r));
		await world.run(500);
		expect(reply).toBeNull();
		expect(tab.outbox.count).toBe(1);
		tab.pair.setReachable(true);
		await world.until(() => reply !== null, 2000, 'resolved');
		await pending;
		expect(reply).toMatchObject({ message: { body: 'offline', seq: 1 } });

		world.model.intercept = (request) => (request.event === 'send_message' ? error('invalid', 'too long') : undefined);
		const refused = room.pushEventAsync('send_message', { body: 'refused' });
		const settled = refused.catch((e: unknown) => e);
		await world.run(200);
		const failure = await settled;
		expect(failure).toBeInstanceOf(OutboxCallError);
		expect(failure).toMatchObject({ reason: 'invalid', item: { status: 'failed' } });
	});

	it('pushEventAsync pushes other events directly, and handleEvent hears server pushes until stopped', async () => {
		const world = new World();
		const tab = world.tab('ann');
		await tab.outbox.ready;
		const room = tab.chat.room(ROOM);
		await world.until(() => room.view.get().ready, 1000, 'ready');
		const heard: unknown[] = [];
		const stop = room.handleEvent('new_message', (payload) => heard.push((payload as { message: { body: string } }).message.body));
		world.model.post('lobby', 'bob', 'one');
		await world.run(50);
		stop();
		world.model.post('lobby', 'bob', 'two');
		await world.run(50);
		expect(heard).toEqual(['one']);
		expect(room.messages.map((m) => m.body)).toEqual(['one', 'two']);
		const history = room.pushEventAsync('history', { before: null, limit: 1 });
		await world.run(50);
		expect(await history).toMatchObject({ messages: [{ body: 'two' }] });
		tab.pair.setReachable(false);
		const offline = room.pushEventAsync('history', { before: null, limit: 1 }).catch((e: { reason: string }) => e.reason);
		await world.run(50);
		expect(await offline).toBe('closed');
	});

	it('applies a changes push as the single pushes: each message upserted by id, the higher version wins', async () => {
		const world = new World();
		const tab = world.tab('ann');
		await tab.outbox.ready;
		const room = tab.chat.room(ROOM);
		await world.until(() => room.view.get().ready, 1000, 'ready');
		const one = world.model.post('lobby', 'bob', 'one');
		await world.run(50);
		const at = new Date(world.clock.now()).toISOString();
		const two = { ...one, id: 'm-two', client_id: 'x-two', body: 'two', seq: 2, inserted_at: at, updated_at: at };
		const edited = { ...one, body: 'one, edited', version: 2, updated_at: at };
		tab.pair.server.push(ROOM, 'changes', { messages: [two, edited] });
		await world.run(50);
		expect(room.messages.map((m) => [m.body, m.seq])).toEqual([['one, edited', 1], ['two', 2]]);
		// An older state of a message in a later push does not win; a malformed push changes nothing.
		tab.pair.server.push(ROOM, 'changes', { messages: [one] });
		tab.pair.server.push(ROOM, 'changes', { messages: [{ ...two, body: 42 }] });
		await world.run(50);
		expect(room.messages.map((m) => m.body)).toEqual(['one, edited', 'two']);
	});

	it('chains base_version over pending edits so queued edits apply in order without conflict', async () => {
		const world = new World();
		const tab = world.tab('ann');
		await tab.outbox.ready;
		const room = tab.chat.room(ROOM);
		await sent(room, 'v1');
		await world.until(() => room.messages[0]?.status === 'sent', 1000, 'sent');
		tab.pair.setReachable(false);
		await world.run(50);
		await room.edit(room.messages[0]!, 'v2');
		await room.edit(room.messages[0]!, 'v3');
		expect(tab.outbox.list().map((i) => i.payload.base_version)).toEqual([1, 2]);
		expect(room.messages[0]).toMatchObject({ body: 'v3', status: 'pending' });
		tab.pair.setReachable(true);
		await world.until(() => tab.outbox.count === 0, 2000, 'edits confirmed');
		await world.run(50);
		expect(room.messages[0]).toMatchObject({ body: 'v3', status: 'sent', message: { version: 3 } });
		expect(tab.types()).not.toContain('call-conflict');
		await room.remove(room.messages[0]!);
		await world.until(() => tab.outbox.count === 0, 2000, 'delete confirmed');
		expect(room.messages[0]).toMatchObject({ deleted: true, status: 'sent' });
		expect(() => room.edit({ ...room.messages[0]!, message: null } as ViewMessage, 'x')).toThrow(/not confirmed yet/);
	});

	it('loads the first screen from history and older pages until there are none', async () => {
		const world = new World();
		for (let i = 1; i <= 120; i++) world.model.post('lobby', 'bob', `m${i}`);
		const tab = world.tab('ann', {}, { historyLimit: 50 });
		await tab.outbox.ready;
		const room = tab.chat.room(ROOM);
		await world.until(() => room.view.get().ready, 1000, 'ready');
		expect(room.messages.map((m) => m.seq)).toEqual(Array.from({ length: 50 }, (_, i) => 71 + i));
		expect(room.hasMore).toBe(true);
		const older = room.loadOlder();
		await world.run(50);
		expect(await older).toBe(50);
		const oldest = room.loadOlder();
		await world.run(50);
		expect(await oldest).toBe(20);
		expect(room.messages).toHaveLength(120);
		expect(room.hasMore).toBe(false);
	});

	it('does not rewrite a full snapshot for older pages (its newest messages did not change), and does for a new message', async () => {
		const world = new World();
		for (let i = 1; i <= 120; i++) world.model.post('lobby', 'bob', `m${i}`);
		const tab = world.tab('ann', {}, { historyLimit: 50, snapshotLimit: 50 });
		await tab.outbox.ready;
		const room = tab.chat.room(ROOM);
		await world.until(() => room.view.get().ready, 1000, 'ready');
		await world.run(50);
		const writes: unknown[] = [];
		const write = world.storage.write.bind(world.storage);
		world.storage.write = (namespace, change) => {
			const snapshot = change.meta?.[`room-snapshot:${ROOM}`];
			if (snapshot !== undefined) writes.push(snapshot);
			return write(namespace, change);
		};
		const older = room.loadOlder();
		await world.run(50);
		expect(await older).toBe(50);
		expect(room.messages).toHaveLength(100);
		expect(writes).toHaveLength(0);
		world.model.post('lobby', 'bob', 'new');
		await world.until(() => room.messages.length === 101, 2000, 'pushed');
		await world.run(50);
		expect(writes).toHaveLength(1);
		expect((writes[0] as { messages: { body: string }[] }).messages.at(-1)?.body).toBe('new');
	});

	it('shows the last-seen messages from the stored snapshot after a restart, offline', async () => {
		const world = new World();
		world.model.post('lobby', 'bob', 'seen before');
		const first = world.tab('ann');
		await first.outbox.ready;
		const room = first.chat.room(ROOM);
		await world.until(() => room.messages.length === 1, 1000, 'loaded');
		await world.run(50);
		await first.outbox.close();

		const second = world.tab('ann');
		second.pair.setReachable(false);
		await second.outbox.ready;
		const again = second.chat.room(ROOM);
		await world.run(100);
		expect(again.view.get()).toMatchObject({ ready: true, messages: [expect.objectContaining({ body: 'seen before', status: 'sent' })] });
	});
});

describe('room snapshot', () => {
	it("a room opened before the user's queue has loaded still gets that user's snapshot, never another user's", async () => {
		const world = new World();
		world.model.post('lobby', 'bob', 'ann saw this');
		const first = world.tab('ann');
		const seen = first.chat.room(ROOM);
		await world.until(() => seen.messages.length === 1, 1000, 'loaded');
		await world.run(50);
		await first.outbox.close();

		const second = world.tab('ann'); // setUser is under way: the queue is not loaded yet
		second.pair.setReachable(false);
		const early = second.chat.room(ROOM);
		await world.run(100);
		expect(early.messages.map((m) => m.body)).toEqual(['ann saw this']);

		await second.outbox.setUser('carol'); // carol has no snapshot here: she must not see ann's
		await world.run(100);
		expect(early.messages).toEqual([]);
		expect(early.view.get().ready).toBe(false);
	});

	it('an empty room is stored too (its cursor), so a restart offline shows it ready and a later sync starts from there', async () => {
		const world = new World();
		const first = world.tab('ann');
		await first.outbox.ready;
		const room = first.chat.room(ROOM);
		await world.until(() => room.view.get().ready, 1000, 'ready');
		await world.run(50);
		const stored = (await world.storage.getMeta('ann', `room-snapshot:${ROOM}`)) as { cursor?: unknown; messages?: unknown } | null;
		expect(stored).toEqual({ cursor: expect.any(String), messages: [], syncedAt: expect.any(Number) });
		await first.outbox.close();

		world.model.post('lobby', 'bob', 'while away');
		const second = world.tab('ann');
		second.pair.setReachable(false);
		await second.outbox.ready;
		const again = second.chat.room(ROOM);
		await world.run(100);
		expect(again.view.get()).toMatchObject({ ready: true, messages: [] });
		second.pair.setReachable(true);
		await world.until(() => again.messages.length === 1, 5000, 'synced');
		expect(again.messages).toEqual([expect.objectContaining({ body: 'while away', status: 'sent', seq: 1 })]);
	});
});

describe('chat actions on the engine', () => {
	it('keeps an action whose type is no longer registered as failed (invalid), never dropping it', async () => {
		const world = new World();
		const first = world.tab('ann');
		first.outbox.actions.register('old_type', { toWire: (p) => ({ ...p }) });
		const untyped = first.outbox as unknown as Outbox;
		await first.outbox.ready;
		first.pair.setReachable(false);
		const item = await untyped.add('old_type', ROOM, { x: 1 });
		await first.outbox.close();
		const second = world.tab('ann');
		await second.outbox.ready;
		await world.run(500);
		expect(second.outbox.get(item.id)).toMatchObject({ status: 'failed', lastError: { reason: 'invalid' } });
	});

	it('dispatches every event as a DOM CustomEvent named outbox:<name>', async () => {
		const world = new World();
		const target = new EventTarget();
		const got: Array<[string, unknown]> = [];
		for (const name of ['call-queued', 'call-reconciled', 'queue-processing-complete']) {
			target.addEventListener(`outbox:${name}`, (e) => got.push([e.type, (e as CustomEvent).detail]));
		}
		const tab = world.tab('ann', { eventTarget: target });
		await tab.outbox.ready;
		const item = await tab.outbox.add('send_message', ROOM, { body: 'dom' });
		await world.until(() => tab.outbox.count === 0, 1000, 'sent');
		await world.run(20);
		expect(got.map(([type]) => type)).toEqual(['outbox:call-queued', 'outbox:call-reconciled', 'outbox:queue-processing-complete']);
		expect(got[0]?.[1]).toMatchObject({ item: { id: item.id } });
	});
});

describe('refused sends and retries', () => {
	it('keeps a send refused before queueing as a failed row with its text, across a restart, until fixed and retried', async () => {
		const world = new World();
		const store = new Map<string, string>();
		const kv = { getItem: (k: string) => store.get(k) ?? null, setItem: (k: string, v: string) => void store.set(k, v), removeItem: (k: string) => void store.delete(k) };
		const tab = world.tab('ann', {}, { rejectedStore: kv });
		await tab.outbox.ready;
		const room = tab.chat.room(ROOM);
		await world.until(() => room.view.get().ready, 1000, 'ready');
		const outcome = await room.send('x'.repeat(4001));
		expect(outcome.ok).toBe(false);
		expect(tab.outbox.count).toBe(0);
		expect(room.messages).toEqual([expect.objectContaining({ status: 'failed', item: null, body: 'x'.repeat(4001), error: expect.objectContaining({ reason: 'invalid', message: expect.stringMatching(/4000/) }) })]);
		await tab.outbox.close();

		const again = world.tab('ann', {}, { rejectedStore: kv });
		await again.outbox.ready;
		const room2 = again.chat.room(ROOM);
		await world.until(() => room2.view.get().ready, 1000, 'ready again');
		const row = room2.messages[0]!;
		expect(row).toMatchObject({ status: 'failed', body: 'x'.repeat(4001) });
		await room2.retry(row, 'fixed');
		await world.until(() => again.outbox.count === 0 && room2.messages.length === 1 && room2.messages[0]?.status === 'sent', 2000, 'fixed text sent');
		expect(room2.messages.map((m) => m.body)).toEqual(['fixed']);
		expect(store.size).toBe(0);
	});

	it('retries a failed send with a changed text as a new action and drops the failed one', async () => {
		const world = new World();
		const tab = world.tab('ann');
		await tab.outbox.ready;
		const room = tab.chat.room(ROOM);
		await world.until(() => room.view.get().ready, 1000, 'ready');
		world.model.intercept = (request) => (request.event === 'send_message' ? error('invalid', 'no swearing') : undefined);
		await sent(room, 'darn');
		await world.until(() => room.messages[0]?.status === 'failed', 1000, 'failed');
		world.model.intercept = null;
		await room.retry(room.messages[0]!, 'gosh');
		await world.until(() => tab.outbox.count === 0, 2000, 'sent');
		await world.run(20);
		expect(room.messages.map((m) => [m.body, m.status])).toEqual([['gosh', 'sent']]);
		expect(world.model.messages.map((m) => m.body)).toEqual(['gosh']);
		await room.discard(room.messages[0]!); // a sent row has no item: nothing happens
		expect(room.messages).toHaveLength(1);
	});
});
