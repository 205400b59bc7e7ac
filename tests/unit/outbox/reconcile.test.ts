import { describe, expect, it } from 'vitest';
import { defaultClassify, describeErrorReply, classifyReply, REASON_VERDICTS, VERDICTS, type Verdict } from '../../../src/lib/outbox/core/classify.js';
import { RECONCILE_TABLE, settle, failedViewOf } from '../../../src/lib/outbox/core/reconcile.js';
import type { Outcome } from '../../../src/lib/outbox/core/queue-item.js';
import { OUTBOX_EVENT_NAMES } from '../../../src/lib/outbox/core/events.js';
import { REASONS, PERMANENT_REASONS } from '../../../src/lib/protocol/reasons.js';
import { item } from './fixtures.js';

const policy = { baseMs: 1000, capMs: 30_000, maxRetries: 5, networkDelayMs: 500, random: () => 0.5 };

type Key = 'ok' | 'timeout' | 'closed' | (typeof REASONS)[number];

/** An outcome as the send loop makes it: error replies through the default classifier. */
const outcomeOf = (key: Key): Outcome => {
	if (key === 'ok') return { kind: 'ok', response: { message: { id: 'm1' } } };
	if (key === 'timeout' || key === 'closed') return { kind: key };
	const c = defaultClassify({ reason: key, message: `because ${key}` });
	return { kind: 'error', verdict: c.verdict, reason: c.reason, message: c.message!, detail: { reason: key, message: `because ${key}` } };
};

// DESIGN.md's reason table, restated as the expected outcome of one attempt.
const EXPECTED: Array<{
	key: Key;
	status: 'removed' | 'queued' | 'failed';
	events: string[];
	sync: boolean;
	signIn: boolean;
	view: 'show' | 'mark' | 'hide';
	charged: boolean;
}> = [
	{ key: 'ok', status: 'removed', events: ['call-reconciled'], sync: false, signIn: false, view: 'show', charged: false },
	{ key: 'unauthorized', status: 'failed', events: ['call-rolled-back', 'state-rolled-back', 'call-failed'], sync: false, signIn: true, view: 'hide', charged: false },
	{ key: 'forbidden', status: 'failed', events: ['call-rolled-back', 'state-rolled-back', 'call-failed'], sync: false, signIn: false, view: 'hide', charged: false },
	{ key: 'conflict', status: 'failed', events: ['call-conflict', 'state-rolled-back', 'call-failed'], sync: true, signIn: false, view: 'mark', charged: false },
	{ key: 'invalid', status: 'failed', events: ['call-failed'], sync: false, signIn: false, view: 'show', charged: false },
	{ key: 'rate_limited', status: 'queued', events: [], sync: false, signIn: false, view: 'show', charged: true },
	{ key: 'internal', status: 'queued', events: [], sync: false, signIn: false, view: 'show', charged: true },
	{ key: 'timeout', status: 'queued', events: [], sync: false, signIn: false, view: 'show', charged: true },
	{ key: 'closed', status: 'queued', events: [], sync: false, signIn: false, view: 'show', charged: false }
];

describe('error classification', () => {
	it('maps every contract reason to a verdict; exactly the permanent reasons are not retried', () => {
		expect(Object.keys(REASON_VERDICTS).sort()).toEqual([...REASONS].sort());
		for (const reason of REASONS) {
			const { verdict } = defaultClassify({ reason });
			expect(verdict !== 'retry', reason).toBe(PERMANENT_REASONS.has(reason));
		}
	});

	it('fails an error reply that is not one of ours for good, with a message made from it', () => {
		expect(defaultClassify({ errors: { title: ["can't be blank"], due: ['is invalid', 'is in the past'] } })).toEqual({
			verdict: 'fail',
			reason: 'rejected',
			message: "title: can't be blank; due: is invalid, is in the past"
		});
		expect(defaultClassify({ reason: 'not_found' })).toEqual({ verdict: 'fail', reason: 'not_found' });
		expect(defaultClassify('nope')).toEqual({ verdict: 'fail', reason: 'rejected', message: 'nope' });
		expect(defaultClassify(null)).toEqual({ verdict: 'fail', reason: 'rejected' });
		expect(describeErrorReply({ message: 'x'.repeat(500) })).toHaveLength(300);
	});

	it('guards against a custom classifier that throws or answers nonsense', () => {
		expect(classifyReply(() => { throw new Error('boom'); }, {})).toMatchObject({ verdict: 'fail', message: expect.stringContaining('boom') });
		expect(classifyReply(() => ({ verdict: 'maybe' as Verdict, reason: 'x' }), {})).toMatchObject({ verdict: 'fail' });
	});
});

describe('reconciliation table', () => {
	it('has one row per verdict and lists only contract event names', () => {
		expect(Object.keys(RECONCILE_TABLE).sort()).toEqual([...VERDICTS].sort());
		for (const row of Object.values(RECONCILE_TABLE)) {
			for (const name of row.events) expect(OUTBOX_EVENT_NAMES).toContain(name);
		}
	});

	it.each(EXPECTED)('settles an item sent once with outcome $key', (row) => {
		const sent = { ...item({ topic: 'room:a' }), status: 'sending' as const };
		const s = settle(sent, outcomeOf(row.key), 10_000, policy);
		expect(s.events.map((e) => e.type)).toEqual(row.events);
		expect(s.requestSync).toBe(row.sync);
		expect(s.requestSignIn).toBe(row.signIn);
		if (row.status === 'removed') {
			expect(s.item).toBeNull();
			expect(s.events[0]).toMatchObject({ type: 'call-reconciled', detail: { item: sent, response: { message: { id: 'm1' } } } });
			return;
		}
		expect(s.item?.status).toBe(row.status);
		expect(s.item?.attempts).toBe(row.charged ? 1 : 0);
		expect(s.item?.lastError).toMatchObject({ reason: row.key, at: 10_000 });
		expect(s.item?.payload).toEqual(sent.payload); // the text stays recoverable
		if (row.status === 'queued') expect(s.item?.nextAttemptAt).toBeGreaterThanOrEqual(10_000);
		else expect(s.item?.nextAttemptAt).toBeNull();
		if (s.item) expect(failedViewOf({ ...s.item, status: 'failed' })).toBe(row.view);
	});

	it('keeps the server message and reply in lastError and in call-conflict', () => {
		const s = settle({ ...item(), status: 'sending' }, outcomeOf('conflict'), 5, policy);
		expect(s.item?.lastError).toEqual({ reason: 'conflict', verdict: 'conflict', message: 'because conflict', detail: { reason: 'conflict', message: 'because conflict' }, at: 5 });
		expect(s.events[0]).toMatchObject({ type: 'call-conflict', detail: { message: 'because conflict' } });
		expect(s.events[1]).toMatchObject({ type: 'state-rolled-back', detail: { topic: 'room:lobby', reason: 'conflict' } });
	});

	it('settles a retryable failure as failed, kept, once maxRetries is used up', () => {
		const worn = { ...item(), status: 'sending' as const, attempts: 5 };
		const s = settle(worn, { kind: 'error', verdict: 'retry', reason: 'internal' }, 7, policy);
		expect(s.disposition).toBe('fail');
		expect(s.item).toMatchObject({ status: 'failed', attempts: 6, lastError: { reason: 'internal' } });
		expect(s.events).toEqual([{ type: 'call-failed', detail: { item: s.item, error: s.item?.lastError, exhausted: true } }]);
	});

	it("follows the classifier's verdict, not the reason's name", () => {
		const s = settle({ ...item(), status: 'sending' }, { kind: 'error', verdict: 'retry', reason: 'invalid' }, 1, policy);
		expect(s.item).toMatchObject({ status: 'queued', attempts: 1 });
		const r = settle({ ...item(), status: 'sending' }, { kind: 'error', verdict: 'rollback', reason: 'not_yours' }, 1, policy);
		expect(r.events.map((e) => e.type)).toEqual(['call-rolled-back', 'state-rolled-back', 'call-failed']);
	});

	it('reads items stored before verdicts were kept by the reason table', () => {
		expect(failedViewOf(item({ status: 'failed', lastError: { reason: 'forbidden', at: 1 } }))).toBe('hide');
		expect(failedViewOf(item({ status: 'failed', lastError: { reason: 'conflict', at: 1 } }))).toBe('mark');
		expect(failedViewOf(item({ status: 'failed', lastError: { reason: 'invalid', at: 1 } }))).toBe('show');
	});
});
