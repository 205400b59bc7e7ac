import { describe, expect, it } from 'vitest';
import { backoffBound, decide, resolveRetryOptions } from '../../../src/lib/outbox/core/retry-policy.js';
import type { Failure } from '../../../src/lib/outbox/core/queue-item.js';
import { PERMANENT_REASONS, REASONS, RETRYABLE_REASONS } from '../../../src/lib/protocol/reasons.js';
import { seededRandom } from '../../../src/lib/outbox/testing/seeded-random.js';
import { sequence } from './fixtures.js';

const err = (reason: (typeof REASONS)[number]): Failure => ({ kind: 'error', reason });
const opts = { baseMs: 100, capMs: 5000, maxRetries: 5, networkDelayMs: 400 };

describe('retry policy', () => {
	it.each([
		{ failure: err('invalid'), attempt: 1 },
		{ failure: err('forbidden'), attempt: 1 },
		{ failure: err('unauthorized'), attempt: 3 },
		{ failure: err('conflict'), attempt: 1 }
	])('fails at once on the permanent reason $failure.reason (attempt $attempt)', ({ failure, attempt }) => {
		expect(decide(attempt, failure, { ...opts, random: () => 0.5 })).toEqual({
			kind: 'fail',
			reason: (failure as { reason: string }).reason,
			exhausted: false
		});
	});

	it('covers every contract reason: permanent ones fail, retryable ones retry', () => {
		for (const reason of REASONS) {
			const decision = decide(1, err(reason), { ...opts, random: () => 0.5 });
			if (PERMANENT_REASONS.has(reason)) expect(decision.kind, reason).toBe('fail');
			else {
				expect(RETRYABLE_REASONS.has(reason), reason).toBe(true);
				expect(decision, reason).toEqual({ kind: 'retry', delayMs: 50, charged: true });
			}
		}
	});

	it.each([
		// attempt, random, expected delay: floor(random * min(cap, base * 2^(attempt-1)))
		{ attempt: 1, random: 0.5, delay: 50 },
		{ attempt: 2, random: 0.5, delay: 100 },
		{ attempt: 3, random: 0.999, delay: 399 },
		{ attempt: 5, random: 0.25, delay: 400 },
		{ attempt: 1, random: 0, delay: 0 }
	])('backs off exponentially with full jitter: attempt $attempt, random $random -> $delay ms', ({ attempt, random, delay }) => {
		expect(decide(attempt, err('internal'), { ...opts, random: () => random })).toEqual({ kind: 'retry', delayMs: delay, charged: true });
	});

	it('caps the backoff bound', () => {
		expect(backoffBound(1, opts)).toBe(100);
		expect(backoffBound(6, opts)).toBe(3200);
		expect(backoffBound(7, opts)).toBe(5000);
		expect(backoffBound(2000, opts)).toBe(5000);
		const d = decide(5, err('rate_limited'), { ...opts, maxRetries: 50, capMs: 1000, random: () => 0.999 });
		expect(d).toEqual({ kind: 'retry', delayMs: 999, charged: true });
	});

	it('keeps every delay within 0 <= delay <= min(cap, base * 2^n) over 10,000 seeded draws', () => {
		const random = seededRandom(99);
		let seenLow = false;
		let seenHigh = false;
		for (let i = 0; i < 10_000; i++) {
			const attempt = 1 + (i % 12);
			const bound = Math.min(opts.capMs, opts.baseMs * 2 ** (attempt - 1));
			const d = decide(attempt, err(i % 2 ? 'internal' : 'rate_limited'), { ...opts, maxRetries: 20, random });
			if (d.kind !== 'retry') throw new Error('expected a retry');
			expect(d.delayMs).toBeGreaterThanOrEqual(0);
			expect(d.delayMs).toBeLessThanOrEqual(bound);
			if (d.delayMs < bound * 0.1) seenLow = true;
			if (d.delayMs > bound * 0.9) seenHigh = true;
		}
		// Full jitter spreads over the whole range, not just near the bound.
		expect(seenLow && seenHigh).toBe(true);
	});

	it.each([
		{ maxRetries: 5, attempt: 5, kind: 'retry' },
		{ maxRetries: 5, attempt: 6, kind: 'fail' },
		{ maxRetries: 0, attempt: 1, kind: 'fail' },
		{ maxRetries: 1, attempt: 1, kind: 'retry' }
	])('with maxRetries $maxRetries, charged attempt $attempt -> $kind', ({ maxRetries, attempt, kind }) => {
		const d = decide(attempt, err('internal'), { ...opts, maxRetries, random: () => 0.1 });
		expect(d.kind).toBe(kind);
		if (d.kind === 'fail') expect(d).toEqual({ kind: 'fail', reason: 'internal', exhausted: true });
	});

	it('charges a timeout and fails it after maxRetries', () => {
		expect(decide(2, { kind: 'timeout' }, { ...opts, random: () => 0.5 })).toEqual({ kind: 'retry', delayMs: 100, charged: true });
		expect(decide(6, { kind: 'timeout' }, { ...opts, random: () => 0.5 })).toEqual({ kind: 'fail', reason: 'timeout', exhausted: true });
	});

	it('never charges nor exhausts a closed socket, and retries it after a short jittered delay', () => {
		for (const attempt of [1, 6, 100]) {
			expect(decide(attempt, { kind: 'closed' }, { ...opts, random: sequence(0.5) })).toEqual({ kind: 'retry', delayMs: 200, charged: false });
		}
	});

	it('clamps a random source that leaves [0, 1)', () => {
		const d = decide(1, err('internal'), { ...opts, random: () => 1.5 });
		expect(d).toEqual({ kind: 'retry', delayMs: 0, charged: true });
	});

	it.each([{ maxRetries: -1 }, { baseMs: Number.NaN }, { capMs: -5 }, { maxRetries: 1.5 }])('rejects nonsense options %o', (bad) => {
		expect(() => resolveRetryOptions(bad)).toThrow(TypeError);
	});
});
