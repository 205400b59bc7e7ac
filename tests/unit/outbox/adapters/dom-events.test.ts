import { describe, expect, it } from 'vitest';
import { dispatchOutboxEvent } from '../../../../src/lib/outbox/adapters/dom-events.js';

describe('dispatchOutboxEvent', () => {
	it('dispatches a CustomEvent named outbox:<name> carrying the detail', () => {
		const target = new EventTarget();
		const seen: Array<{ type: string; detail: unknown }> = [];
		target.addEventListener('outbox:call-queued', (e) => seen.push({ type: e.type, detail: (e as CustomEvent).detail }));
		const item = { id: 'c1' } as never;
		expect(dispatchOutboxEvent('call-queued', { item }, target)).toBe(true);
		expect(seen).toEqual([{ type: 'outbox:call-queued', detail: { item } }]);
	});

	it('does nothing where there is no DOM to dispatch on (Node globalThis, SSR)', () => {
		expect(dispatchOutboxEvent('queue-processing-start', { startedAt: 0, queued: 1 })).toBe(false);
		expect(dispatchOutboxEvent('queue-processing-start', { startedAt: 0, queued: 1 }, undefined)).toBe(false);
	});
});
