/**
 * Svelte stores over one engine (the `svelte/store` `Readable` contract: a
 * value plus subscribers; each store starts watching the engine with its
 * first subscriber and stops with its last). They adapt, they decide nothing.
 *
 * @example
 * const { connection, queue, error } = createOutboxStores(outbox);
 * // in a component: {#if $connection.status !== 'connected'} ... {$queue.count} pending
 * const lobby = roomStore(outbox.room('room:lobby'));   // $lobby.messages
 */
import { readable, type Readable } from 'svelte/store';
import type { ConnectionState, Observable, Outbox, OutboxError, QueueSnapshot, Room, RoomView } from '../runtime/index.js';

/** A `Readable` over an engine observable. */
export function toReadable<T>(source: Observable<T>): Readable<T> {
	return readable(source.get(), (set) => source.subscribe(set));
}

/** `{status, wasDisconnected, lastConnectedAt, reason?}`. */
export function connectionStore(outbox: Outbox): Readable<ConnectionState> {
	return toReadable(outbox.connection);
}

/** The queue: `{items, count, counts}`. */
export function queueStore(outbox: Outbox): Readable<QueueSnapshot> {
	return toReadable(outbox.queue);
}

/** The error state (quota, unavailable storage, refused session), or null. */
export function errorStore(outbox: Outbox): Readable<OutboxError | null> {
	return toReadable(outbox.error);
}

/** One room's optimistic view: `{messages, hasMore, unreadCount, ready}`. */
export function roomStore(room: Room): Readable<RoomView> {
	return toReadable(room.view);
}

export interface OutboxStores {
	connection: Readable<ConnectionState>;
	queue: Readable<QueueSnapshot>;
	error: Readable<OutboxError | null>;
	/** The view store of a room (opened on first use). */
	room(topic: string): Readable<RoomView>;
}

/** Every store of one engine. Make them once per app instance (see `setOutboxContext`). */
export function createOutboxStores(outbox: Outbox): OutboxStores {
	const rooms = new Map<string, Readable<RoomView>>();
	return {
		connection: connectionStore(outbox),
		queue: queueStore(outbox),
		error: errorStore(outbox),
		room(topic) {
			let store = rooms.get(topic);
			if (!store) rooms.set(topic, (store = roomStore(outbox.room(topic))));
			return store;
		}
	};
}
