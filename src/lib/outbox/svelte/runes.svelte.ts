/**
 * Rune classes over one engine: the same values as the stores, as getters
 * over `$state` (read-only from outside), for components written with runes.
 *
 * @example
 * const connection = new OutboxConnection(outbox);
 * // {#if connection.status !== 'connected'}<Banner reason={connection.reason} />{/if}
 * const todos = new ObservableState(outbox.topic('list:groceries').view(confirmedTodos));
 * // {#each todos.current as todo (todo.id)} ... {/each}
 */
import type { QueueFigures } from '../core/figures.js';
import type { QueueItem } from '../core/queue-item.js';
import type { ConnectionState, Outbox, OutboxError, QueueSnapshot, StorageState } from '../runtime/index.js';
import { ObservableState } from './observable-state.svelte.js';

/** The connection store's value, field by field. */
export class OutboxConnection {
	#state: ObservableState<ConnectionState>;
	constructor(outbox: Pick<Outbox, 'connection'>) {
		this.#state = new ObservableState(outbox.connection);
	}
	get current(): ConnectionState {
		return this.#state.current;
	}
	get status(): ConnectionState['status'] {
		return this.#state.current.status;
	}
	get wasDisconnected(): boolean {
		return this.#state.current.wasDisconnected;
	}
	get lastConnectedAt(): number | null {
		return this.#state.current.lastConnectedAt;
	}
	get reason(): ConnectionState['reason'] {
		return this.#state.current.reason;
	}
}

/** The queue: items in creation order and counts. */
export class OutboxQueue {
	#state: ObservableState<QueueSnapshot>;
	constructor(outbox: Outbox) {
		this.#state = new ObservableState(outbox.queue);
	}
	get items(): readonly QueueItem[] {
		return this.#state.current.items;
	}
	get count(): number {
		return this.#state.current.count;
	}
	get counts(): QueueSnapshot['counts'] {
		return this.#state.current.counts;
	}
}

/** The error state, or null. */
export class OutboxErrorState {
	#state: ObservableState<OutboxError | null>;
	constructor(outbox: Outbox) {
		this.#state = new ObservableState(outbox.error);
	}
	get current(): OutboxError | null {
		return this.#state.current;
	}
}

/** The queue's figures (depth, oldest unsent, last flush, latency, retries, failure rate). */
export class OutboxFigures {
	#state: ObservableState<QueueFigures>;
	constructor(outbox: Pick<Outbox, 'figures'>) {
		this.#state = new ObservableState(outbox.figures);
	}
	get current(): QueueFigures {
		return this.#state.current;
	}
}

/** Whether the queue can be saved durably (`trouble` is what to warn about, or null). */
export class OutboxStorage {
	#state: ObservableState<StorageState>;
	constructor(outbox: Pick<Outbox, 'storage'>) {
		this.#state = new ObservableState(outbox.storage);
	}
	get current(): StorageState {
		return this.#state.current;
	}
	get trouble(): StorageState['trouble'] {
		return this.#state.current.trouble;
	}
}
