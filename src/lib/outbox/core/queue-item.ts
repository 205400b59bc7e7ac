/**
 * The queue item: one user action, persisted as plain JSON under its own key
 * (DESIGN.md "Queue item"), plus the outcome vocabulary every other core file
 * speaks. Items are never mutated: a change makes a new object, so identity
 * tells a reader (store, view, storage writer) whether an item changed.
 */
import type { Reason } from '../../protocol/reasons.js';

/** Where an item is in its life: waiting, in flight, or settled as failed (kept). */
export type QueueItemStatus = 'queued' | 'sending' | 'failed';

/** Why an attempt failed: a server `reason`, or a network outcome. */
export type FailureReason = Reason | 'timeout' | 'closed';

/** The last failure of an item, as persisted and shown (`message-error`). */
export interface ItemError {
	reason: FailureReason;
	message?: string;
	/** Clock time of the failure (ms). */
	at: number;
}

/**
 * One queued user action. `id` is the action's `client_id` (time-sortable),
 * `topic` its lane (`room:<slug>`), `type` the event pushed (`send_message`...).
 *
 * `attempts` counts the failures charged against `maxRetries`: error replies
 * and timeouts. A push cut off by a closed socket is not charged (see
 * `retry-policy.ts`). `nextAttemptAt` is null when the item may go at once.
 */
export interface QueueItem {
	readonly id: string;
	readonly type: string;
	readonly topic: string;
	readonly payload: Readonly<Record<string, unknown>>;
	readonly createdAt: number;
	readonly attempts: number;
	readonly status: QueueItemStatus;
	readonly lastError: ItemError | null;
	readonly nextAttemptAt: number | null;
}

/** A failed attempt as the transport reported it. */
export type Failure =
	| { kind: 'error'; reason: Reason; message?: string }
	| { kind: 'timeout' }
	| { kind: 'closed' };

/** What came back for one pushed action: the server's ok reply, or a failure. */
export type Outcome = { kind: 'ok'; response: unknown } | Failure;

/** The `reason` under which a failure is filed (`timeout` and `closed` for network outcomes). */
export function failureReason(failure: Failure): FailureReason {
	return failure.kind === 'error' ? failure.reason : failure.kind;
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
}

/**
 * A fresh `queued` item. The payload is copied and must be JSON (it is
 * persisted and may be read by a service worker).
 *
 * @example
 * const item = createQueueItem({ id: ids.next(), type: 'send_message',
 *   topic: 'room:lobby', payload: { body: 'hi' }, createdAt: clock.now() });
 */
export function createQueueItem(input: NewItem): QueueItem {
	if (!input.id || !input.topic || !input.type) {
		throw new TypeError('createQueueItem needs a non-empty id, type and topic');
	}
	if (!Number.isFinite(input.createdAt)) {
		throw new TypeError('createQueueItem needs createdAt as a number of ms (clock.now())');
	}
	return {
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
}

/** Creation order: `createdAt`, then `id` (time-sortable, so it breaks ties in order made). */
export function compareItems(a: QueueItem, b: QueueItem): number {
	if (a.createdAt !== b.createdAt) return a.createdAt - b.createdAt;
	return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
