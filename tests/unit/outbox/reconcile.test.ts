import { describe, expect, it } from 'vitest';
import { RECONCILE_TABLE, ruleFor, settle, failedViewOf } from '../../../src/lib/outbox/core/reconcile.js';
import type { OutcomeKey } from '../../../src/lib/outbox/core/reconcile.js';
import type { Outcome } from '../../../src/lib/outbox/core/queue-item.js';
import { OUTBOX_EVENT_NAMES } from '../../../src/lib/outbox/core/events.js';
import { PERMANENT_REASONS, REASONS } from '../../../src/lib/protocol/reasons.js';
import { item } from './fixtures.js';

const policy = { baseMs: 1000, capMs: 30_000, maxRetries: 5, networkDelayMs: 500, random: () => 0.5 };

const outcomeOf = (key: OutcomeKey): Outcome =>
	key === 'ok' ? { kind: 'ok', response: { message: { id: 'm1' } } } : key === 'timeout' || key === 'closed' ? { kind: key } : { kind: 'error', reason: key, message: `because ${key}` };

// DESIGN.md's reason table, restated as the expected outcome of one attempt.
const EXPECTED: Array<{
	key: OutcomeKey;
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

describe('reconciliation table', () => {
	it('has one row per outcome: ok, every contract reason, timeout and closed', () => {
		expect(Object.keys(RECONCILE_TABLE).sort()).toEqual(['ok', ...REASONS, 'timeout', 'closed'].sort());
		expect(EXPECTED.map((row) => row.key).sort()).toEqual(Object.keys(RECONCILE_TABLE).sort());
	});

	it('fails exactly the permanent reasons at once and lists only contract event names', () => {
		for (const reason of REASONS) {
			expect(RECONCILE_TABLE[reason].disposition === 'fail', reason).toBe(PERMANENT_REASONS.has(reason));
		}
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
		expect(RECONCILE_TABLE[row.key].failedView).toBe(row.view);
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
		if (s.item) expect(failedViewOf(s.item)).toBe(row.view);
	});

	it('keeps the server message in lastError and in call-conflict', () => {
		const s = settle({ ...item(), status: 'sending' }, { kind: 'error', reason: 'conflict', message: 'stale base_version' }, 5, policy);
		expect(s.item?.lastError).toEqual({ reason: 'conflict', message: 'stale base_version', at: 5 });
		expect(s.events[0]).toMatchObject({ type: 'call-conflict', detail: { message: 'stale base_version' } });
		expect(s.events[1]).toMatchObject({ type: 'state-rolled-back', detail: { topic: 'room:lobby', reason: 'conflict' } });
	});

	it('settles a retryable failure as failed, kept, once maxRetries is used up', () => {
		const worn = { ...item(), status: 'sending' as const, attempts: 5 };
		const s = settle(worn, { kind: 'error', reason: 'internal' }, 7, policy);
		expect(s.disposition).toBe('fail');
		expect(s.item).toMatchObject({ status: 'failed', attempts: 6, lastError: { reason: 'internal' } });
		expect(s.events).toEqual([{ type: 'call-failed', detail: { item: s.item, error: s.item?.lastError, exhausted: true } }]);
	});

	it('maps outcomes to rows', () => {
		expect(ruleFor({ kind: 'timeout' })).toBe(RECONCILE_TABLE.timeout);
		expect(ruleFor({ kind: 'error', reason: 'forbidden' })).toBe(RECONCILE_TABLE.forbidden);
		expect(ruleFor({ kind: 'ok', response: null })).toBe(RECONCILE_TABLE.ok);
	});
});
