import { describe, expect, it } from 'vitest';
import type { ConnectionState } from '../../../../src/lib/outbox/index.js';
import { World } from './harness.js';

const ROOM = 'room:lobby';

describe('engine connection', () => {
	it('drops to disconnected at once on an offline event, and reconnects at once on online', async () => {
		const world = new World();
		const tab = world.tab('ann');
		await tab.outbox.ready;
		await world.run(50);
		expect(tab.outbox.connection.get()).toMatchObject({ status: 'connected', wasDisconnected: false, lastConnectedAt: expect.any(Number) });

		// The network goes; the socket has not noticed yet, the browser has.
		tab.connectivity.set({ online: false });
		expect(tab.outbox.connection.get()).toMatchObject({ status: 'disconnected', reason: 'offline', wasDisconnected: true });
		const item = await tab.outbox.add('send_message', ROOM, { body: 'while offline' });
		await world.run(100);
		expect(tab.pair.server.received).toHaveLength(0); // nothing pushed while offline

		// Real loss: the socket backs off for longer and longer.
		tab.pair.setReachable(false);
		await world.run(20_000, 500);
		expect(tab.pair.client.status().status).toBe('connecting');
		tab.pair.setReachable(true);
		const onlineAt = world.clock.now();
		tab.connectivity.set({ online: true });
		await world.until(() => tab.outbox.connection.get().status === 'connected', 1000, 'connected');
		const connected = tab.outbox.connection.get();
		expect(connected.lastConnectedAt! - onlineAt).toBeLessThanOrEqual(25); // not the socket's 5 s backoff step
		expect(connected.wasDisconnected).toBe(true);
		await world.until(() => tab.outbox.count === 0, 1000, 'queued item sent');
		expect(world.model.messages.map((m) => m.client_id)).toEqual([item.id]);
	});

	it('reports a refused token as disconnected with reason unauthorized', async () => {
		const world = new World();
		const tab = world.tab(null);
		tab.pair.server.refuse = 'unauthorized';
		const seen: ConnectionState['status'][] = [];
		tab.outbox.connection.subscribe((c) => seen.push(c.status));
		await tab.outbox.setUser('ann');
		await world.run(200);
		expect(tab.outbox.connection.get()).toEqual({ status: 'disconnected', wasDisconnected: false, lastConnectedAt: null, reason: 'unauthorized' });
		expect(seen).toEqual(['disconnected', 'connecting', 'disconnected']);
	});

	it('stops sending when the server refuses the session on a push, and says so in the error state', async () => {
		const world = new World();
		const tab = world.tab('ann');
		await tab.outbox.ready;
		world.model.intercept = (request) => (request.event === 'send_message' ? { status: 'error', response: { reason: 'unauthorized' } } : undefined);
		await tab.outbox.add('send_message', ROOM, { body: 'a' });
		await world.run(100);
		world.model.intercept = null;
		await tab.outbox.add('send_message', ROOM, { body: 'b' });
		await world.run(2000);
		expect(tab.outbox.error.get()).toMatchObject({ kind: 'unauthorized' });
		expect(tab.pair.server.received.filter((r) => r.event.startsWith('send'))).toHaveLength(1);
		expect(tab.outbox.list().map((i) => i.status)).toEqual(['failed', 'queued']);
	});

	it('sends again when the same user signs in afresh after the server refused the session on a push', async () => {
		const world = new World();
		const tab = world.tab('ann');
		await tab.outbox.ready;
		world.model.intercept = (request) => (request.event === 'send_message' ? { status: 'error', response: { reason: 'unauthorized' } } : undefined);
		await tab.outbox.add('send_message', ROOM, { body: 'a' });
		await world.run(100);
		world.model.intercept = null;
		const waiting = await tab.outbox.add('send_message', ROOM, { body: 'b' });
		await world.run(2000);
		expect(tab.outbox.list().map((i) => i.status)).toEqual(['failed', 'queued']);

		// Signed in again (a new token): the same user, so the same queue.
		await tab.outbox.setUser('ann');
		await world.until(() => tab.outbox.get(waiting.id) === undefined, 2000, 'the waiting item sent');
		expect(world.model.messages.map((m) => m.client_id)).toEqual([waiting.id]);
		expect(tab.outbox.error.get()).toBeNull();
		expect(tab.outbox.list().map((i) => i.status)).toEqual(['failed']);
	});

	it('connects again when the same user signs in afresh after the server refused the token', async () => {
		const world = new World();
		const tab = world.tab(null);
		world.model.attach(tab.pair, 'ann');
		tab.pair.server.refuse = 'unauthorized';
		await tab.outbox.setUser('ann');
		const waiting = await tab.outbox.add('send_message', ROOM, { body: 'kept' });
		await world.run(500);
		expect(tab.outbox.connection.get()).toMatchObject({ status: 'disconnected', reason: 'unauthorized' });

		tab.pair.server.refuse = null;
		await tab.outbox.setUser('ann');
		await world.until(() => tab.outbox.connection.get().status === 'connected', 2000, 'connected');
		await world.until(() => tab.outbox.count === 0, 2000, 'queued item sent');
		expect(world.model.messages.map((m) => m.client_id)).toEqual([waiting.id]);
	});

	it('on reconnect flushes the queue first, then syncs each open room from its cursor, paging until complete', async () => {
		const world = new World();
		world.model.syncPageSize = 2;
		const tab = world.tab('ann');
		await tab.outbox.ready;
		world.model.post('lobby', 'bob', 'before');
		const room = tab.chat.room(ROOM);
		await world.until(() => room.view.get().ready, 1000, 'first screen');
		expect(room.messages.map((m) => m.body)).toEqual(['before']);

		tab.pair.setReachable(false);
		await world.run(50);
		for (const body of ['while', 'you', 'were', 'out']) world.model.post('lobby', 'bob', body);
		const mine = await room.send('mine');
		if (!mine.ok) throw new Error('refused');
		expect(room.view.get().messages.map((m) => [m.body, m.status])).toEqual([['before', 'sent'], ['mine', 'pending']]);

		const mark = tab.pair.server.received.length;
		tab.pair.setReachable(true);
		await world.until(() => tab.outbox.count === 0 && !tab.chat.room(ROOM).view.get().messages.some((m) => m.status !== 'sent') && room.messages.length === 6, 5000, 'synced');
		await world.run(100);
		const after = tab.pair.server.received.slice(mark).map((r) => `${r.event}${r.event === 'sync' ? ':' + String(r.payload.since) : ''}`);
		expect(after).toEqual(['send_message', 'sync:c1', 'sync:c3', 'sync:c5']);
		expect(room.messages.map((m) => m.body)).toEqual(['before', 'while', 'you', 'were', 'out', 'mine']);
		expect(room.messages.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6]);
		expect(room.messages.at(-1)).toMatchObject({ clientId: mine.item.id, status: 'sent' });
	});
});
