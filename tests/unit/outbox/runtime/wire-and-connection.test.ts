import { describe, expect, it } from 'vitest';
import { defaultClassify, deriveConnection, INITIAL_CONNECTION, outcomesOf } from '../../../../src/lib/outbox/index.js';
import type { ConnectionState } from '../../../../src/lib/outbox/index.js';
import { item } from '../fixtures.js';

describe('outcomesOf', () => {
	const a = item({ id: 'a' });
	const b = item({ id: 'b' });
	it.each([
		['timeout', { status: 'timeout' } as const, [{ kind: 'timeout' }, { kind: 'timeout' }]],
		['closed', { status: 'closed' } as const, [{ kind: 'closed' }, { kind: 'closed' }]],
		[
			'batch error',
			{ status: 'error', response: { reason: 'rate_limited' } } as const,
			[
				{ kind: 'error', verdict: 'retry', reason: 'rate_limited', detail: { reason: 'rate_limited' } },
				{ kind: 'error', verdict: 'retry', reason: 'rate_limited', detail: { reason: 'rate_limited' } }
			]
		],
		[
			'results by client_id, in any order',
			{ status: 'ok', response: { results: [{ client_id: 'b', status: 'error', reason: 'conflict', message: 'stale' }, { client_id: 'a', status: 'ok', message: { id: 'm1' } }] } } as const,
			[{ kind: 'ok', response: { message: { id: 'm1' } } }, { kind: 'error', verdict: 'conflict', reason: 'conflict', message: 'stale', detail: { reason: 'conflict', message: 'stale' } }]
		],
		[
			'a missing result is a server fault (retried)',
			{ status: 'ok', response: { results: [] } } as const,
			[
				{ kind: 'error', verdict: 'retry', reason: 'internal', message: expect.any(String) },
				{ kind: 'error', verdict: 'retry', reason: 'internal', message: expect.any(String) }
			]
		]
	])('maps a send_batch reply: %s', (_, result, expected) => {
		expect(outcomesOf([a, b], result, true, defaultClassify)).toEqual(expected);
	});

	it("passes a single action reply through and classifies an error reply that is not Outbox's", () => {
		expect(outcomesOf([a], { status: 'ok', response: { message: 1 } }, false, defaultClassify)).toEqual([{ kind: 'ok', response: { message: 1 } }]);
		const ecto = { errors: { body: ['is too long'] } };
		expect(outcomesOf([a], { status: 'error', response: ecto }, false, defaultClassify)).toEqual([
			{ kind: 'error', verdict: 'fail', reason: 'rejected', message: 'body: is too long', detail: ecto }
		]);
		const custom = () => ({ verdict: 'retry' as const, reason: 'busy' });
		expect(outcomesOf([a], { status: 'error', response: ecto }, false, custom)).toEqual([{ kind: 'error', verdict: 'retry', reason: 'busy', detail: ecto }]);
	});
});

describe('deriveConnection', () => {
	const online = { online: true, visible: true };
	const offline = { online: false, visible: true };
	it('walks connecting -> connected -> lost -> offline -> back, keeping what it learned', () => {
		let c: ConnectionState = INITIAL_CONNECTION;
		c = deriveConnection(c, { status: 'connecting', attempt: 1 }, online, 10);
		expect(c).toEqual({ status: 'connecting', wasDisconnected: false, lastConnectedAt: null });
		c = deriveConnection(c, { status: 'connected' }, online, 20);
		expect(c).toEqual({ status: 'connected', wasDisconnected: false, lastConnectedAt: 20 });
		expect(deriveConnection(c, { status: 'connected' }, online, 30)).toBe(c);
		c = deriveConnection(c, { status: 'connected' }, offline, 40);
		expect(c).toEqual({ status: 'disconnected', reason: 'offline', wasDisconnected: true, lastConnectedAt: 20 });
		c = deriveConnection(c, { status: 'connected' }, online, 50);
		expect(c).toEqual({ status: 'connected', wasDisconnected: true, lastConnectedAt: 50 });
		c = deriveConnection(c, { status: 'disconnected', reason: 'unauthorized' }, online, 60);
		expect(c).toEqual({ status: 'disconnected', reason: 'unauthorized', wasDisconnected: true, lastConnectedAt: 50 });
	});
});
