import { describe, expect, it } from 'vitest';
import { createEmitter, domEventType, emitAll, outboxEvent, OUTBOX_EVENT_NAMES } from '../../../src/lib/outbox/core/events.js';
import type { OutboxEventMap } from '../../../src/lib/outbox/core/events.js';
import { item } from './fixtures.js';

describe('typed emitter', () => {
	it('calls listeners in order with the detail, and stops after off / unsubscribe', () => {
		const events = createEmitter<OutboxEventMap>();
		const log: string[] = [];
		const a = (d: OutboxEventMap['call-queued']) => log.push(`a:${d.item.id}`);
		const stopB = events.on('call-queued', (d) => log.push(`b:${d.item.id}`));
		events.on('call-queued', a);
		const queued = item({ id: 'x1' });
		events.emit('call-queued', { item: queued });
		events.off('call-queued', a);
		stopB();
		events.emit('call-queued', { item: queued });
		expect(log).toEqual(['b:x1', 'a:x1']);
		expect(events.listenerCount()).toBe(0);
	});

	it('runs every listener even when one throws, then rethrows the first error', () => {
		const events = createEmitter<{ ping: number }>();
		const seen: number[] = [];
		events.on('ping', () => {
			throw new Error('first');
		});
		events.on('ping', (n) => seen.push(n));
		expect(() => events.emit('ping', 3)).toThrow('first');
		expect(seen).toEqual([3]);
	});

	it('emits a reducer event list in order', () => {
		const events = createEmitter<OutboxEventMap>();
		const log: string[] = [];
		for (const name of OUTBOX_EVENT_NAMES) events.on(name, () => log.push(name));
		const it1 = item();
		emitAll(events, [
			outboxEvent('call-queued', { item: it1 }),
			outboxEvent('call-failed', { item: it1, error: { reason: 'invalid', at: 1 }, exhausted: false })
		]);
		expect(log).toEqual(['call-queued', 'call-failed']);
	});

	it('names DOM events outbox:<name>', () => {
		expect(OUTBOX_EVENT_NAMES.map(domEventType)).toContain('outbox:call-rolled-back');
		expect(OUTBOX_EVENT_NAMES).toHaveLength(9); // the contract's eight, and payload-refused
	});
});
