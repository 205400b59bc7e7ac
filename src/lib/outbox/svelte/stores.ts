/**
 * Svelte stores over one engine (the `svelte/store` `Readable` contract: a
 * value plus subscribers; each store starts watching the engine with its
 * first subscriber and stops with its last). They adapt, they decide nothing.
 *
 * @example
 * const { connection, queue, error } = createOutboxStores(outbox);
 * // in a component: {#if $connection.status !== 'connected'} ... {$queue.count} pending
 * const todos = toReadable(outbox.topic('list:groceries').view(confirmedTodos)); // $todos
 */
import { readable, type Readable } from 'svelte/store';
import type { QueueFigures } from '../core/figures.js';
import type { ConnectionState, Observable, Outbox, OutboxError, QueueSnapshot, StorageState } from '../runtime/index.js';

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

/** The queue's figures. */
export function figuresStore(outbox: Outbox): Readable<QueueFigures> {
	return toReadable(outbox.figures);
}

/** Whether the queue can be saved durably. */
export function storageStore(outbox: Outbox): Readable<StorageState> {
	return toReadable(outbox.storage);
}

export interface OutboxStores {
	connection: Readable<ConnectionState>;
	queue: Readable<QueueSnapshot>;
	error: Readable<OutboxError | null>;
	figures: Readable<QueueFigures>;
	storage: Readable<StorageState>;
}

/** Every store of one engine. Make them once per app instance (see `setOutboxContext`). */
export function createOutboxStores(outbox: Outbox): OutboxStores {
	return {
		connection: connectionStore(outbox),
		queue: queueStore(outbox),
		error: errorStore(outbox),
		figures: figuresStore(outbox),
		storage: storageStore(outbox)
	};
}
