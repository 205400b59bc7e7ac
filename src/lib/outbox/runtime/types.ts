/** The engine's public face: `Outbox`, what `createOutbox` returns. */
import type { Emitter, OutboxEventMap } from '../core/events.js';
import type { QueueItem } from '../core/queue-item.js';
import type { OutboxDeps, StorageErrorKind, Unsubscribe } from '../ports.js';
import type { ActionRegistry } from './action-registry.js';
import type { ConnectionState } from './connection-state.js';
import type { Observable } from './observable.js';
import type { OutboxUser } from './options.js';
import type { QueueSnapshot } from './queue-store.js';
import type { Room } from './room.js';

/** The error state (`outbox.error`): storage refused (quota, unavailable) or the server refused the session. */
export interface OutboxError {
	kind: StorageErrorKind | 'unauthorized';
	message: string;
	/** Clock time it happened. */
	at: number;
}

export interface Outbox {
	/** The ports it runs on, as resolved (defaults filled in). */
	readonly deps: OutboxDeps;
	/** Action types by name; the four chat types are registered. */
	readonly actions: ActionRegistry;
	/** The kit's events (also dispatched as DOM `CustomEvent`s named `outbox:<name>`). */
	readonly events: Pick<Emitter<OutboxEventMap>, 'on' | 'off'>;
	/** `{status, wasDisconnected, lastConnectedAt, reason?}` (Svelte `Readable` contract). */
	readonly connection: Observable<ConnectionState>;
	/** The queue: items in creation order and counts (Svelte `Readable` contract). */
	readonly queue: Observable<QueueSnapshot>;
	/** Quota / unavailable storage, or a refused session; null when all is well. */
	readonly error: Observable<OutboxError | null>;
	readonly user: OutboxUser | null;
	/** Resolves when the last `setUser` has loaded the user's queue. */
	readonly ready: Promise<void>;
	/** Items in the queue (queued, sending and failed). */
	readonly count: number;
	/** Whether this tab is the one that sends. */
	readonly isLeader: boolean;
	/**
	 * Switch the signed-in user (null: signed out). The queue, cursors and
	 * snapshots are the new user's; the previous user's stay stored, unseen
	 * and unsent, until they sign in again. Resolves when loaded.
	 */
	setUser(user: OutboxUser | string | null): Promise<void>;
	/**
	 * Queue an action; resolves with the item once it is durable. Throws for an
	 * unregistered type or no user; rejects with `ActionValidationError` for a
	 * payload its schema refuses, and with the `StorageError` when storage
	 * refuses (quota: the error state is set and nothing is queued).
	 */
	add(type: string, topic: string, payload: Record<string, unknown>): Promise<QueueItem>;
	/** Take an item out without events (bookkeeping). */
	remove(id: string): Promise<void>;
	/** Queue a failed item afresh, or send a waiting one now. */
	retry(id: string): Promise<void>;
	/** Abandon a queued or failed item; its optimistic effect is rolled back. */
	discard(id: string): Promise<void>;
	/** Send everything waiting now; resolves when nothing more can go. */
	flush(): Promise<void>;
	/** Forget every item of this user. */
	clear(): Promise<void>;
	/** Every item, in creation order. */
	list(): readonly QueueItem[];
	get(id: string): QueueItem | undefined;
	/** The subscribable list (Svelte store contract: called at once, then on changes). */
	subscribe(listener: (items: readonly QueueItem[]) => void): Unsubscribe;
	/** Resolves with the server's reply when `item` is confirmed; rejects with `OutboxCallError` if it fails. */
	settled(item: QueueItem): Promise<unknown>;
	/** Flush, then sync the open rooms (or one) from their cursors, paging until complete. */
	sync(topic?: string): Promise<void>;
	/** The room facade for a topic (opened and joined on first use). */
	room(topic: string): Room;
	/** Dismiss the error state. */
	clearError(): void;
	/** Stop: no more sends, listeners removed, leadership given up; resolves after pending writes. */
	close(): Promise<void>;
}
