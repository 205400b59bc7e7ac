/**
 * Reconciliation: what each verdict (`classify.ts`) does to an item and its
 * optimistic effect, as data, and `settle`, which applies it (with the retry
 * policy) to one item and one outcome.
 *
 * `failedView` says how an optimistic view shows an item once it has
 * failed: `show` its effect with status `failed` (its text stays in view),
 * `mark` the confirmed state as failed without the effect (conflict: fresh
 * state shown), or `hide` it (rolled back; the kept item still holds the
 * text for retry or copy).
 */
import type { Verdict } from './classify.js';
import type { OutboxEvent, OutboxEventName } from './events.js';
import { outboxEvent } from './events.js';
import type { Failure, ItemError, Outcome, QueueItem } from './queue-item.js';
import { failureReason, failureVerdict, verdictOf } from './queue-item.js';
import type { RetryOptions } from './retry-policy.js';
import { decide } from './retry-policy.js';

/** How the view shows a failed item (see the file comment). */
export type FailedView = 'show' | 'mark' | 'hide';

/** One row of the table: what settling an item as failed with this verdict does. */
export interface ReconcileRule {
	failedView: FailedView;
	/** Ask the runtime to sync the item's topic (its state moved on). */
	requestSync: boolean;
	/** The session is no good: stop sending and ask the user to sign in. */
	requestSignIn: boolean;
	/** Events emitted when the item settles as failed (a `retry` item: once the policy gives up). */
	events: readonly OutboxEventName[];
}

const rule = (r: ReconcileRule): ReconcileRule => Object.freeze(r);
const FAILED = ['call-failed'] as const;
const ROLLED_BACK = ['call-rolled-back', 'state-rolled-back', 'call-failed'] as const;

/** The verdict table, one row per verdict. */
export const RECONCILE_TABLE: Readonly<Record<Verdict, ReconcileRule>> = Object.freeze({
	retry: rule({ failedView: 'show', requestSync: false, requestSignIn: false, events: FAILED }),
	fail: rule({ failedView: 'show', requestSync: false, requestSignIn: false, events: FAILED }),
	rollback: rule({ failedView: 'hide', requestSync: false, requestSignIn: false, events: ROLLED_BACK }),
	conflict: rule({ failedView: 'mark', requestSync: true, requestSignIn: false, events: ['call-conflict', 'state-rolled-back', 'call-failed'] }),
	unauthorized: rule({ failedView: 'hide', requestSync: false, requestSignIn: true, events: ROLLED_BACK })
});

/** How the view shows a failed item, from its last error (`show` when it has none). */
export function failedViewOf(item: QueueItem): FailedView {
	return item.lastError ? RECONCILE_TABLE[verdictOf(item.lastError)].failedView : 'show';
}

/** What happens to an item: removed as confirmed, tried again, or kept as failed. */
export type Disposition = 'confirm' | 'retry' | 'fail';

/** The result of settling one item. `item` is null when the item leaves the queue. */
export interface Settlement {
	disposition: Disposition;
	item: QueueItem | null;
	events: OutboxEvent[];
	requestSync: boolean;
	requestSignIn: boolean;
}

/**
 * Apply an outcome to an item: confirm (remove), schedule a retry (charged
 * or not, per the policy) or settle as failed (kept), with the table's events.
 *
 * @example
 * const s = settle(item, { kind: 'error', verdict: 'conflict', reason: 'conflict' }, clock.now(), policy);
 * // s.item.status === 'failed', s.requestSync === true,
 * // s.events: call-conflict, state-rolled-back, call-failed
 */
export function settle(item: QueueItem, outcome: Outcome, now: number, policy: Partial<RetryOptions> = {}): Settlement {
	if (outcome.kind === 'ok') {
		return {
			disposition: 'confirm',
			item: null,
			events: [outboxEvent('call-reconciled', { item, response: outcome.response })],
			requestSync: false,
			requestSignIn: false
		};
	}
	const decision = decide(item.attempts + 1, outcome, policy);
	const error = itemError(outcome, now);
	if (decision.kind === 'retry') {
		return {
			disposition: 'retry',
			item: {
				...item,
				status: 'queued',
				attempts: decision.charged ? item.attempts + 1 : item.attempts,
				lastError: error,
				nextAttemptAt: now + decision.delayMs
			},
			events: [],
			requestSync: false,
			requestSignIn: false
		};
	}
	const row = RECONCILE_TABLE[verdictOf(error)];
	const failed: QueueItem = {
		...item,
		status: 'failed',
		attempts: decision.exhausted ? item.attempts + 1 : item.attempts,
		lastError: error,
		nextAttemptAt: null
	};
	return {
		disposition: 'fail',
		item: failed,
		events: row.events.map((name) => failureEvent(name, failed, error, decision.exhausted, outcome)),
		requestSync: row.requestSync,
		requestSignIn: row.requestSignIn
	};
}

function itemError(failure: Failure, now: number): ItemError {
	const error: ItemError = { reason: failureReason(failure), verdict: failureVerdict(failure), at: now };
	if (failure.kind === 'error') {
		if (failure.message !== undefined) error.message = failure.message;
		if (failure.detail !== undefined) error.detail = failure.detail;
	}
	return error;
}

function failureEvent(name: OutboxEventName, item: QueueItem, error: ItemError, exhausted: boolean, failure: Failure): OutboxEvent {
	switch (name) {
		case 'call-rolled-back':
			return outboxEvent(name, { item, reason: error.reason });
		case 'state-rolled-back':
			return outboxEvent(name, { topic: item.topic, ids: [item.id], reason: error.reason });
		case 'call-conflict':
			return outboxEvent(name, failure.kind === 'error' && failure.message !== undefined ? { item, message: failure.message } : { item });
		case 'call-failed':
			return outboxEvent(name, { item, error, exhausted });
		default:
			throw new Error(`reconcile table lists ${name}, which a failure cannot emit`);
	}
}
