/**
 * The ports: every effect the runtime needs, as interfaces injected once
 * (`OutboxDeps`). Browser adapters live in `adapters/`, in-memory ones for
 * tests in `testing/`. The core never touches any of these.
 */
import type { WireResult } from './core/outcomes.js';
import type { QueueItem } from './core/queue-item.js';
import type { UploadProgress, UploadResult } from './core/files.js';

/** Stops a subscription. */
export type Unsubscribe = () => void;

/** An opaque timer handle, as `Clock.setTimeout` returns it. */
export type TimerHandle = unknown;

/**
 * Time and timers. The browser default wraps `Date.now` and the global timers
 * lazily (so fake timers installed later still apply); tests use `FakeClock`.
 */
export interface Clock {
	/** Milliseconds since the epoch. */
	now(): number;
	setTimeout(callback: () => void, ms: number): TimerHandle;
	clearTimeout(handle: TimerHandle): void;
}

/** Why storage refused: out of space, or not usable at all (private mode, blocked, closed). */
export type StorageErrorKind = 'quota' | 'unavailable';

/** The only error a `QueueStorage` rejects with. Nothing is written when it does. */
export class StorageError extends Error {
	override readonly name = 'StorageError';
	readonly kind: StorageErrorKind;

	constructor(kind: StorageErrorKind, message: string, options?: { cause?: unknown }) {
		super(message, options);
		this.kind = kind;
	}
}

/** True when `error` is a `StorageError` (of the given kind, if given). */
export function isStorageError(error: unknown, kind?: StorageErrorKind): error is StorageError {
	return error instanceof StorageError && (kind === undefined || error.kind === kind);
}

/** One storage write: items to put (insert or replace by id), ids to delete, meta values to set (null deletes). */
export interface StorageWrite {
	put?: readonly QueueItem[];
	remove?: readonly string[];
	meta?: Readonly<Record<string, unknown>>;
}

/**
 * Durable queue storage, one key per item, namespaced by the signed-in user's
 * id so another user on the same browser never sees the queue. A `write` is
 * one transaction where the driver allows (IndexedDB) and all-or-nothing.
 * Every method rejects only with `StorageError`.
 */
export interface QueueStorage {
	/** Every item stored under `namespace`, in any order. */
	getAll(namespace: string): Promise<QueueItem[]>;
	/** Put, delete and set meta values together (one transaction). */
	write(namespace: string, change: StorageWrite): Promise<void>;
	/** Delete every item (and meta value) of `namespace`. */
	clear(namespace: string): Promise<void>;
	/** A small JSON value kept beside the queue (a topic's sync cursor, say), or null. */
	getMeta(namespace: string, key: string): Promise<unknown>;
	/**
	 * Whether items may carry files (`Blob`s). IndexedDB stores them as they
	 * are; localStorage cannot. Missing means yes. Never rejects.
	 */
	acceptsFiles?(): Promise<boolean>;
	/** Where the queue lives and whether the browser promised to keep it (optional; never rejects). */
	describe?(): Promise<StorageDescription>;
}

/** What a storage says of itself: its driver, and whether the browser will not evict it (`navigator.storage.persist()`). */
export interface StorageDescription {
	/** `indexeddb`, `localstorage`, `memory`..., or null when no driver could open. */
	driver: string | null;
	/** true: persistence granted; false: refused (the browser may clear it under storage pressure); null: unknown. */
	persisted: boolean | null;
}

/** A push's or join's result, as the wire gave it (an error's `response` is the server's reply as it came). Never a rejection. */
export type PushResult = WireResult;

/** The socket's state (a discriminated union, not flags). */
export type TransportStatus =
	| { status: 'connected' }
	| { status: 'connecting'; attempt: number }
	| { status: 'disconnected'; reason?: 'unauthorized' | 'closed' };

/** A topic's channel state; only `joined` topics take pushes. */
export type ChannelState = 'closed' | 'joining' | 'joined' | 'errored';

/**
 * The Phoenix Channels connection. The transport rejoins joined topics after
 * a reconnect by itself, and never buffers a push for later: a push to a
 * topic that is not `joined` resolves `closed` at once, and a push in flight
 * when the socket drops resolves `closed` (not `timeout`). A channel that
 * crashes while the socket stays up fails its in-flight pushes as
 * `error {reason: 'internal'}` (so a poison action is charged a retry).
 */
export interface Transport {
	connect(): void;
	disconnect(): void;
	/** Drop the current connection and open a new one now, skipping any backoff (the browser said `online`). No-op unless connecting is wanted. */
	reconnectNow(): void;
	status(): TransportStatus;
	/** Called with every status change (not with the current one). */
	subscribeStatus(listener: (status: TransportStatus) => void): Unsubscribe;
	/** Join a topic (and keep it joined across reconnects until `leave`). */
	join(topic: string, params?: Record<string, unknown>): Promise<PushResult>;
	leave(topic: string): Promise<void>;
	channelState(topic: string): ChannelState;
	/** The server's reply to the last refused join of `topic` (refused for good: it is not retried), or null. */
	joinError(topic: string): unknown;
	/** Called with every channel state change of `topic`. */
	subscribeChannel(topic: string, listener: (state: ChannelState) => void): Unsubscribe;
	/** Push an event and wait up to `timeoutMs` for its reply. */
	push(topic: string, event: string, payload: Record<string, unknown>, timeoutMs: number): Promise<PushResult>;
	/** Listen to server pushes of `event` on `topic`. */
	onMessage(topic: string, event: string, listener: (payload: unknown) => void): Unsubscribe;
}

/** What the environment says about reachability and attention. */
export interface ConnectivityState {
	/** `navigator.onLine`: false is certain (offline), true is only a hope. */
	online: boolean;
	/** The page is visible (a hidden page may be frozen soon). */
	visible: boolean;
}

/** Browser connectivity: `online`/`offline` and `visibilitychange`, replaceable in tests. */
export interface Connectivity {
	current(): ConnectivityState;
	/** Called with every change. */
	subscribe(listener: (state: ConnectivityState) => void): Unsubscribe;
}

/** What tabs tell each other: queue changes (the leader's progress) and requests. */
export type TabMessage =
	| { kind: 'queue-changed'; namespace: string; items: QueueItem[]; removedIds: string[]; replies?: Record<string, unknown> }
	| { kind: 'flush-requested'; namespace: string };

/**
 * Cross-tab coordination: one leader tab sends, every tab may add and sees
 * the leader's progress. `M` lets an app carry its own messages.
 */
export interface TabCoordinator<M = TabMessage> {
	/** Whether this tab is the one that sends now. */
	isLeader(): boolean;
	/** Called when this tab gains or loses leadership. */
	subscribe(listener: (isLeader: boolean) => void): Unsubscribe;
	/** Send to every other tab (not to this one). */
	broadcast(message: M): void;
	onBroadcast(listener: (message: M) => void): Unsubscribe;
	/** Give up leadership and stop listening (tab closing, user signing out). */
	close(): void;
}

/** One file to upload: its bytes, and the id, name and type it goes under. */
export interface UploadRequest {
	/** `X-Upload-Id`: derived from the item (`uploadIdOf`), so a second try is the same upload. */
	uploadId: string;
	blob: Blob;
	name: string;
	type: string;
}

/**
 * Uploads a queued action's files before the action is pushed
 * (`adapters/http-uploader.ts` speaks `POST /api/uploads`). Resolves with how
 * it went (never rejects); calls `onProgress` as bytes go out.
 */
export interface Uploader {
	upload(request: UploadRequest, onProgress?: (progress: UploadProgress) => void): Promise<UploadResult>;
}

/** Makes client ids: unique per user, time-sortable (`core/ids.ts`). */
export interface IdGenerator {
	next(): string;
}

/** Every port, injected once into the runtime. */
export interface OutboxDeps {
	clock: Clock;
	storage: QueueStorage;
	transport: Transport;
	connectivity: Connectivity;
	tabs: TabCoordinator;
	ids: IdGenerator;
	/** Uploads the files actions carry (optional: without one, an item with files fails `invalid`). */
	uploader?: Uploader;
}
