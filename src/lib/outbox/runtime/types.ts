/** The engine's public face: `Outbox`, what `createOutbox` returns. */
import type { Emitter, OutboxEventMap } from '../core/events.js';
import type { QueueFigures } from '../core/figures.js';
import type { UploadProgress } from '../core/files.js';
import type { QueueItem } from '../core/queue-item.js';
import type { SessionState } from '../core/session.js';
import type { OutboxDeps, StorageErrorKind, Unsubscribe } from '../ports.js';
import type { ActionMap, ActionRegistry, PayloadOf, ReplyOf } from './action-registry.js';
import type { ConnectionState } from './connection-state.js';
import type { Observable } from './observable.js';
import type { OutboxUser } from './options.js';
import type { QueueSnapshot } from './queue-store.js';
import type { Topic } from './topics.js';

/** The error state (`outbox.error`): storage refused (quota, unavailable) or the server refused the session. */
export interface OutboxError {
	kind: StorageErrorKind | 'unauthorized';
	message: string;
	/** Clock time it happened. */
	at: number;
}

/**
 * Can the queue be saved durably? `trouble` is what to tell the user: the
 * device is full (`quota`), storage refuses (`unavailable`), only
 * localStorage is there (`no-indexeddb`: small, and a service worker cannot
 * read it), or the browser may clear it under storage pressure
 * (`not-persistent`: `navigator.storage.persist()` was refused). Null: all is well.
 */
export interface StorageState {
	driver: string | null;
	persisted: boolean | null;
	trouble: 'quota' | 'unavailable' | 'no-indexeddb' | 'not-persistent' | null;
}

/** Options of one `add`. */
export interface AddOptions {
	/**
	 * A second `add` with the same key while the first item is still in the
	 * queue (unsent, sending or failed) resolves with that first item and
	 * queues nothing: a double tap sends once.
	 */
	dedupeKey?: string;
	/**
	 * Files the action carries (`Blob` or `File`, at most `MAX_FILES_PER_ITEM`):
	 * stored with the item before `add` resolves, uploaded (`deps.uploader`)
	 * when its turn comes, then the action goes out naming the uploads (see
	 * `ActionDefinition.toWire`). A storage that cannot hold files
	 * (localStorage) rejects with `FilesNotStorableError`, nothing queued.
	 */
	files?: readonly Blob[];
}

/** Upload progress of the files being uploaded now, by item id, then by file index (this tab's uploads). */
export type UploadsInFlight = Readonly<Record<string, Readonly<Record<number, UploadProgress>>>>;

/** `add(..., { files })` on a storage that cannot keep files (localStorage): nothing was queued. */
export class FilesNotStorableError extends Error {
	override readonly name = 'FilesNotStorableError';
	readonly reason = 'files_not_storable' as const;
	constructor(driver: string | null) {
		super(`files cannot be queued: the queue is stored in ${driver ?? 'a storage'} that cannot keep files (IndexedDB is needed); nothing was queued`);
	}
}

/** The queued item of action type `K` of the map `A`. */
export type ItemOf<A extends ActionMap, K extends keyof A & string> = QueueItem<K, PayloadOf<A[K]>>;

export interface Outbox<A extends ActionMap = ActionMap> {
	/** The ports it runs on, as resolved (defaults filled in). */
	readonly deps: OutboxDeps;
	/** Action types by name (those of `createOutbox({ actions })`, and any registered later). */
	readonly actions: ActionRegistry;
	/** The kit's events (also dispatched as DOM `CustomEvent`s named `outbox:<name>`). */
	readonly events: Pick<Emitter<OutboxEventMap>, 'on' | 'off'>;
	/** `{status, wasDisconnected, lastConnectedAt, reason?}` (Svelte `Readable` contract). */
	readonly connection: Observable<ConnectionState>;
	/** Who is signed in and whether this tab sends (`core/session.ts`). */
	readonly session: Observable<SessionState>;
	/** The queue: items in creation order and counts (Svelte `Readable` contract). */
	readonly queue: Observable<QueueSnapshot>;
	/** Quota / unavailable storage, or a refused session; null when all is well. */
	readonly error: Observable<OutboxError | null>;
	/** Whether the queue can be saved durably, and why not (for a warning the user can act on). */
	readonly storage: Observable<StorageState>;
	/** Queue depth, oldest unsent item, last flush, latency p50/p95, retries, failure rate (updated by events, no polling). */
	readonly figures: Observable<QueueFigures>;
	/** Files being uploaded now, with progress (`{[itemId]: {[fileIndex]: {loaded, total}}}`); an item's uploaded files carry `upload`. */
	readonly uploads: Observable<UploadsInFlight>;
	readonly user: OutboxUser | null;
	/** Resolves when the last `setUser` has loaded the user's queue. */
	readonly ready: Promise<void>;
	/** Items in the queue (queued, sending and failed). */
	readonly count: number;
	/** Whether this tab is the one that sends. */
	readonly isLeader: boolean;
	/**
	 * Switch the signed-in user (null: signed out). The queue and stored
	 * values are the new user's; the previous user's stay stored, unseen and
	 * unsent, until they sign in again. Setting the same user again (a fresh
	 * token) ends a refused session. Resolves when loaded.
	 */
	setUser(user: OutboxUser | string | null): Promise<void>;
	/**
	 * Queue an action; resolves with the item once it is durable. Throws for an
	 * unregistered type or no user; rejects with `ActionValidationError` for a
	 * payload its schema refuses, and with the `StorageError` when storage
	 * refuses (quota: the error state is set and nothing is queued).
	 */
	add<K extends keyof A & string>(type: K, topic: string, payload: PayloadOf<A[K]>, options?: AddOptions): Promise<ItemOf<A, K>>;
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
	/** Resolves with the server's reply (decoded by the type's `reply`) when `item` is confirmed; rejects with `OutboxCallError` if it fails. */
	settled<K extends keyof A & string>(item: QueueItem<K, object>): Promise<ReplyOf<A[K]>>;
	/** Flush, then run the sync routines of every topic (or of one), resolving when they finish. */
	sync(topic?: string): Promise<void>;
	/** The handle of one topic (`runtime/topics.ts`): joins, pushes, requests, items, views, sync routines. */
	topic(name: string): Topic;
	/** Small JSON values stored beside the signed-in user's queue (a topic's cursor or snapshot), per user. */
	readonly meta: {
		get(key: string): Promise<unknown>;
		/** null deletes. Rejects when no user is set. */
		set(key: string, value: unknown): Promise<void>;
	};
	/** Connect now instead of waiting for the socket's backoff (the kit does it on `online`; a "Retry now" button asks the same). */
	reconnect(): void;
	/** Dismiss the error state. */
	clearError(): void;
	/** Stop: no more sends, listeners removed, leadership given up; resolves after pending writes. */
	close(): Promise<void>;
}
