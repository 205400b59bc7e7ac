/**
 * Reconciliation: DESIGN.md's reason table as data, and `settle`, which
 * applies it (with the retry policy) to one item and one outcome.
 *
 * `failedView` says how the optimistic view shows an item once it has
 * failed: `show` its effect with status `failed` (the text stays in view),
 * `mark` the confirmed state as failed without the effect (conflict: fresh
 * state shown), or `hide` it (rolled back; the text stays in the kept item).
 */
import type { OutboxEvent, OutboxEventName } from './events.js';
import { outboxEvent } from './events.js';
import type { Failure, FailureReason, ItemError, Outcome, QueueItem } from './queue-item.js';
import { failureReason } from './queue-item.js';
import type { RetryOptions } from './retry-policy.js';
import { decide } from './retry-policy.js';

/** What happens to an item: removed as confirmed, tried again, or kept as failed. */
export type Disposition = 'confirm' | 'retry' | 'fail';

/** How the view shows a failed item (see the file comment). */
export type FailedView = 'show' | 'mark' | 'hide';

/** One row of the reason table. */
export interface ReconcileRule {
	disposition: Disposition;
	/** Whether the optimistic effect is undone (the call is rolled back). */
	rollback: boolean;
	failedView: FailedView;
	/** Ask the runtime for a `sync` of the item's topic (conflict). */
	requestSync: boolean;
	/** The token is no good: the runtime should stop sending and ask to sign in. */
	requestSignIn: boolean;
	/**
	 * Events emitted when the row settles the item. For `retry` rows these are
	 * emitted only once the policy gives up (`maxRetries`).
	 */
	events: readonly OutboxEventName[];
}

/** An outcome's key in the table: `ok`, a server reason, or a network outcome. */
export type OutcomeKey = 'ok' | FailureReason;

const rule = (r: ReconcileRule): ReconcileRule => Object.freeze(r);
const ROLLBACK_EVENTS = ['call-rolled-back', 'state-rolled-back', 'call-failed'] as const;

/** DESIGN.md's reason table, one row per outcome. */
export const RECONCILE_TABLE: Readonly<Record<OutcomeKey, ReconcileRule>> = Object.freeze({
	ok: rule({ disposition: 'confirm', rollback: false, failedView: 'show', requestSync: false, requestSignIn: false, events: ['call-reconciled'] }),
	unauthorized: rule({ disposition: 'fail', rollback: true, failedView: 'hide', requestSync: false, requestSignIn: true, events: ROLLBACK_EVENTS }),
	forbidden: rule({ disposition: 'fail', rollback: true, failedView: 'hide', requestSync: false, requestSignIn: false, events: ROLLBACK_EVENTS }),
	conflict: rule({ disposition: 'fail', rollback: true, failedView: 'mark', requestSync: true, requestSignIn: false, events: ['call-conflict', 'state-rolled-back', 'call-failed'] }),
	invalid: rule({ disposition: 'fail', rollback: false, failedView: 'show', requestSync: false, requestSignIn: false, events: ['call-failed'] }),
	rate_limited: rule({ disposition: 'retry', rollback: false, failedView: 'show', requestSync: false, requestSignIn: false, events: ['call-failed'] }),
	internal: rule({ disposition: 'retry', rollback: false, failedView: 'show', requestSync: false, requestSignIn: false, events: ['call-failed'] }),
	timeout: rule({ disposition: 'retry', rollback: false, failedView: 'show', requestSync: false, requestSignIn: false, events: ['call-failed'] }),
	closed: rule({ disposition: 'retry', rollback: false, failedView: 'show', requestSync: false, requestSignIn: false, events: ['call-failed'] })
});

/** The table row for an outcome. */
export function ruleFor(outcome: Outcome): ReconcileRule {
	return RECONCILE_TABLE[outcome.kind === 'ok' ? 'ok' : failureReason(outcome)];
}

/** How the view shows a failed item, from its last error (`show` when it has none). */
export function failedViewOf(item: QueueItem): FailedView {
	return item.lastError ? RECONCILE_TABLE[item.lastError.reason].failedView : 'show';
}

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
 * const s = settle(item, { kind: 'error', reason: 'conflict' }, clock.now(), policy);
 * // s.item.status === 'failed', s.requestSync === true,
 * // s.events: call-conflict, state-rolled-back, call-failed
 */
export function settle(item: QueueItem, outcome: Outcome, now: number, policy: Partial<RetryOptions> = {}): Settlement {
	const row = ruleFor(outcome);
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
	const error: ItemError = { reason: failureReason(failure), at: now };
	if (failure.kind === 'error' && failure.message !== undefined) error.message = failure.message;
	return error;
}

function failureEvent(
	name: OutboxEventName,
	item: QueueItem,
	error: ItemError,
	exhausted: boolean,
	failure: Failure
): OutboxEvent {
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
