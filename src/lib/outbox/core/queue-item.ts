/**
 * The queue item: one user action, persisted as plain JSON under its own key
 * (DESIGN.md "Queue item"), plus the outcome vocabulary every other core file
 * speaks. Items are never mutated: a change makes a new object, so identity
 * tells a reader (store, view, storage writer) whether an item changed.
 */
import { REASON_VERDICTS, type Verdict } from './classify.js';
import type { ItemFile } from './files.js';

/** Where an item is in its life: waiting, in flight, or settled as failed (kept). */
export type QueueItemStatus = 'queued' | 'sending' | 'failed';

/** Why an attempt failed: the classified server `reason`, or a network outcome (`timeout`, `closed`). */
export type FailureReason = string;

/** The last failure of an item, as persisted and shown to the user. */
export interface ItemError {
	reason: FailureReason;
	message?: string;
	/** What the failure meant (`classify.ts`); network outcomes are `retry`. Missing on items stored by older versions: see `verdictOf`. */
	verdict?: Verdict;
	/** The server's error reply as it came, for apps that show their own errors. */
	detail?: unknown;
	/** Clock time of the failure (ms). */
	at: number;
}

/** An item error's verdict; items stored before verdicts were kept get theirs from the reason table. */
export function verdictOf(error: { reason: string; verdict?: Verdict }): Verdict {
	if (error.verdict) return error.verdict;
	if (error.reason === 'timeout' || error.reason === 'closed') return 'retry';
	return REASON_VERDICTS[error.reason] ?? 'fail';
}

/**
 * One queued user action. `id` is the action's `client_id` (time-sortable),
 * `topic` its lane (a Phoenix topic such as `list:groceries`), `type` the app's action type.
 *
 * `attempts` counts the failures charged against `maxRetries`: error replies
 * and timeouts. A push cut off by a closed socket is not charged (see
 * `retry-policy.ts`). `nextAttemptAt` is null when the item may go at once.
 */
export interface QueueItem<T extends string = string, P extends object = Readonly<Record<string, unknown>>> {
	readonly id: string;
	readonly type: T;
	readonly topic: string;
	readonly payload: P;
	readonly createdAt: number;
	/** Set by `add(..., { dedupeKey })`: a second add with the key while this item is unsent returns this item. */
	readonly dedupeKey?: string;
	/** Files the action carries (`add(..., { files })`, `files.ts`): stored with the item, uploaded before it is pushed. */
	readonly files?: readonly ItemFile[];
	readonly attempts: number;
	readonly status: QueueItemStatus;
	readonly lastError: ItemError | null;
	readonly nextAttemptAt: number | null;
}

/** A failed attempt as the transport reported it. */
export type Failure =
	/** `verdict` comes from the classifier; without one, Outbox's reason table decides (`verdictOf`). */
	| { kind: 'error'; verdict?: Verdict; reason: string; message?: string; detail?: unknown }
	| { kind: 'timeout' }
	| { kind: 'closed' };

/** What came back for one pushed action: the server's ok reply, or a failure. */
export type Outcome = { kind: 'ok'; response: unknown } | Failure;

/** The `reason` under which a failure is filed (`timeout` and `closed` for network outcomes). */
export function failureReason(failure: Failure): FailureReason {
	return failure.kind === 'error' ? failure.reason : failure.kind;
}

/** The verdict of a failure: network outcomes are retried. */
export function failureVerdict(failure: Failure): Verdict {
	return failure.kind === 'error' ? verdictOf(failure) : 'retry';
}

/** True for outcomes where no server verdict arrived (timeout, closed socket). */
export function isNetworkReason(reason: FailureReason): reason is 'timeout' | 'closed' {
	return reason === 'timeout' || reason === 'closed';
}

/** What `createQueueItem` needs; the id and time come from the injected ports. */
export interface NewItem {
	id: string;
	type: string;
	topic: string;
	payload: Record<string, unknown>;
	createdAt: number;
	dedupeKey?: string;
	files?: readonly ItemFile[];
}

/**
 * A fresh `queued` item. The payload is copied and must be JSON (it is
 * persisted and may be read by a service worker).
 *
 * @example
 * const item = createQueueItem({ id: ids.next(), type: 'todo_add',
 *   topic: 'list:groceries', payload: { title: 'milk' }, createdAt: clock.now() });
 */
export function createQueueItem(input: NewItem): QueueItem {
	if (!input.id || !input.topic || !input.type) {
		throw new TypeError('createQueueItem needs a non-empty id, type and topic');
	}
	if (!Number.isFinite(input.createdAt)) {
		throw new TypeError('createQueueItem needs createdAt as a number of ms (clock.now())');
	}
	const item: QueueItem = {
		id: input.id,
		type: input.type,
		topic: input.topic,
		payload: { ...input.payload },
		createdAt: input.createdAt,
		attempts: 0,
		status: 'queued',
		lastError: null,
		nextAttemptAt: null
	};
	const keyed = input.dedupeKey === undefined ? item : { ...item, dedupeKey: input.dedupeKey };
	return input.files === undefined || input.files.length === 0 ? keyed : { ...keyed, files: input.files };
}

/** Creation order: `createdAt`, then `id` (time-sortable, so it breaks ties in order made). */
export function compareItems(a: QueueItem, b: QueueItem): number {
	if (a.createdAt !== b.createdAt) return a.createdAt - b.createdAt;
	return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
