import { get } from 'svelte/store';
import { describe, expect, it } from 'vitest';
import { WritableValue } from '../../../../src/lib/outbox/runtime/observable.js';
import { createOutboxStores, toReadable } from '../../../../src/lib/outbox/svelte/stores.js';
import { OutboxConnection, OutboxQueue } from '../../../../src/lib/outbox/svelte/runes.svelte.js';
import { RoomViewState } from '../../../../src/lib/chat/runes.svelte.js';
import { World } from './harness.js';

describe('svelte bindings', () => {
	it('a store watches the engine from its first subscriber to its last', () => {
		const source = new WritableValue(1);
		let watching = 0;
		const counted = {
			get: () => source.get(),
			subscribe(listener: (value: number) => void) {
				watching++;
				const stop = source.subscribe(listener);
				return () => {
					watching--;
					stop();
				};
			}
		};
		const store = toReadable(counted);
		expect(watching).toBe(0);
		const a: number[] = [];
		const b: number[] = [];
		const stopA = store.subscribe((v) => a.push(v));
		const stopB = store.subscribe((v) => b.push(v));
		expect(watching).toBe(1);
		source.set(2);
		stopA();
		expect(watching).toBe(1);
		source.set(3);
		stopB();
		expect(watching).toBe(0);
		expect(a).toEqual([1, 2]);
		expect(b).toEqual([1, 2, 3]);
	});

	it('stores and rune classes follow the connection, the queue and a room', async () => {
		const world = new World();
		const tab = world.tab('ann');
		await tab.outbox.ready;
		const stores = createOutboxStores(tab.outbox);
		const statuses: string[] = [];
		const counts: number[] = [];
		stores.connection.subscribe((c) => statuses.push(c.status));
		stores.queue.subscribe((q) => counts.push(q.count));
		const connection = new OutboxConnection(tab.outbox);
		const queue = new OutboxQueue(tab.outbox);
		const lobby = new RoomViewState(tab.chat.room('room:lobby'));
		await world.run(50);
		expect(connection.status).toBe('connected');

		tab.pair.setReachable(false);
		await world.run(50);
		await lobby.room.send('hi');
		await world.run(10);
		expect(queue.count).toBe(1);
		expect(lobby.messages.map((m) => [m.body, m.status])).toEqual([['hi', 'pending']]);
		tab.pair.setReachable(true);
		await world.until(() => tab.outbox.count === 0, 2000, 'sent');
		await world.run(10);
		expect(lobby.messages.map((m) => m.status)).toEqual(['sent']);
		expect(counts.at(-1)).toBe(0);
		expect(counts).toContain(1);
		expect(statuses).toEqual(expect.arrayContaining(['connected', 'connecting']));
		expect(statuses.at(-1)).toBe('connected');
	});
});
