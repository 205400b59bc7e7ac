/**
 * Retry policy: given how many charged attempts an item has used and why the
 * last one failed, retry (after how long) or fail. Pure; randomness injected.
 *
 * Decisions (the verdicts of `classify.ts`, plus what they leave open):
 * - every verdict but `retry` (`fail`, `rollback`, `conflict`,
 *   `unauthorized`) fails at once, whatever the attempt count;
 * - `retry` replies (`rate_limited`, `internal`) and `timeout` are *charged*: exponential
 *   backoff with full jitter, `delay = random() * min(capMs, baseMs * 2^(attempt-1))`,
 *   and after `maxRetries` retries (so `1 + maxRetries` charged attempts) the
 *   item fails, kept. A timeout is charged because the push reached a live
 *   socket and got no answer, which is also what a poison action looks like;
 *   without a charge it would hold its lane for ever. (The transport reports a
 *   push that was in flight when the socket dropped as `closed`, not `timeout`.)
 * - `closed` (socket gone, or offline) is *not* charged: nothing got a
 *   verdict. It retries after a short jittered delay (`networkDelayMs`); the
 *   runtime also makes such items ready the moment the socket is back
 *   (`flushRequested` with scope `network`), so they go first, head of lane.
 */
import type { Failure, FailureReason } from './queue-item.js';
import { failureReason, failureVerdict } from './queue-item.js';

/** Tunables of the policy; every field has a default (`DEFAULT_RETRY_OPTIONS`). */
export interface RetryOptions {
	/** Retries after the first charged failure before the item fails (default 5). */
	maxRetries: number;
	/** Backoff bound of the first retry (ms, default 1,000). */
	baseMs: number;
	/** Largest backoff bound (ms, default 30,000). */
	capMs: number;
	/** Bound of the jittered delay after a `closed` failure (ms, default 500). */
	networkDelayMs: number;
	/** Uniform in [0, 1); inject a seeded one in tests. */
	random: () => number;
}

export const DEFAULT_RETRY_OPTIONS: RetryOptions = Object.freeze({
	maxRetries: 5,
	baseMs: 1000,
	capMs: 30_000,
	networkDelayMs: 500,
	random: Math.random
});

/** Retry after `delayMs`; `charged` says whether this failure counts toward `maxRetries`. */
export type RetryDecision =
	| { kind: 'retry'; delayMs: number; charged: boolean }
	| { kind: 'fail'; reason: FailureReason; exhausted: boolean };

/** Options over defaults, checked once (a `TypeError` names the bad field). */
export function resolveRetryOptions(options: Partial<RetryOptions> = {}): RetryOptions {
	const resolved = { ...DEFAULT_RETRY_OPTIONS, ...options };
	for (const key of ['maxRetries', 'baseMs', 'capMs', 'networkDelayMs'] as const) {
		const value = resolved[key];
		if (!Number.isFinite(value) || value < 0) {
			throw new TypeError(`retry option ${key} must be a finite number >= 0, got ${value}`);
		}
	}
	if (!Number.isInteger(resolved.maxRetries)) {
		throw new TypeError(`retry option maxRetries must be an integer, got ${resolved.maxRetries}`);
	}
	if (typeof resolved.random !== 'function') {
		throw new TypeError('retry option random must be a function returning [0, 1)');
	}
	return resolved;
}

/** The upper bound of the jittered backoff after the `attempt`-th charged failure (1-based). */
export function backoffBound(attempt: number, options: Pick<RetryOptions, 'baseMs' | 'capMs'>): number {
	const exponent = Math.max(0, attempt - 1);
	// 2^exponent overflows to Infinity long after the cap wins; min() handles it.
	return Math.min(options.capMs, options.baseMs * 2 ** exponent);
}

/**
 * Decide what to do after a failure.
 *
 * `attempt` is the number of charged attempts *including this one if it is
 * charged* (the caller passes `item.attempts + 1`; for a `closed` failure the
 * count is ignored).
 *
 * @example
 * decide(1, { kind: 'error', verdict: 'retry', reason: 'internal' }) // { kind: 'retry', delayMs: 0..1000, charged: true }
 * decide(1, { kind: 'error', verdict: 'fail', reason: 'invalid' })   // { kind: 'fail', reason: 'invalid', exhausted: false }
 */
export function decide(
	attempt: number,
	failure: Failure,
	options: Partial<RetryOptions> = {}
): RetryDecision {
	const o = resolveRetryOptions(options);
	const reason = failureReason(failure);
	if (failure.kind === 'error' && failureVerdict(failure) !== 'retry') {
		return { kind: 'fail', reason, exhausted: false };
	}
	if (failure.kind === 'closed') {
		return { kind: 'retry', delayMs: jitter(o.networkDelayMs, o.random), charged: false };
	}
	if (attempt > o.maxRetries) return { kind: 'fail', reason, exhausted: true };
	return { kind: 'retry', delayMs: jitter(backoffBound(attempt, o), o.random), charged: true };
}

function jitter(bound: number, random: () => number): number {
	const r = random();
	// A random() outside [0, 1) would break the bound; clamp rather than trust it.
	const unit = r >= 0 && r < 1 ? r : 0;
	return Math.floor(unit * bound);
}

/**
 * How long after a sync routine could not finish (a timeout, a lost page) it
 * is run again, when nothing else (a reply, a join, a change) runs it sooner.
 */
export const SYNC_RETRY_MS = 2000;

/** How long after the server closed a wanted channel it is joined again (a server that closes every join is not hammered). */
export const REJOIN_AFTER_CLOSE_MS = 1000;
