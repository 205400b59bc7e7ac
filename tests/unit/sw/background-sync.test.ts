/** When the page asks for a background flush (src/lib/outbox/sw/page.ts). */
import { describe, expect, it } from 'vitest';
import { requestBackgroundFlush, watchQueueForBackgroundSync } from '../../../src/lib/outbox/sw/page';
import { createQueueItem, type QueueItem } from '../../../src/lib/outbox/core/queue-item';

function fakeOutbox() {
	let itemsListener: (items: readonly QueueItem[]) => void = () => {};
	let connectionListener: (state: { status: string }) => void = () => {};
	return {
		outbox: {
			subscribe(listener: (items: readonly QueueItem[]) => void) {
				itemsListener = listener;
				listener([]);
				return () => (itemsListener = () => {});
			},
			connection: {
				subscribe(listener: (state: { status: string }) => void) {
					connectionListener = listener;
					listener({ status: 'disconnected' });
					return () => (connectionListener = () => {});
				}
			}
		},
		items: (n: number, failed = 0) =>
			itemsListener(
				Array.from({ length: n + failed }, (_, i) => ({
					...createQueueItem({ id: `i${i}`, type: 'send_message', topic: 'room:a', payload: { body: 'x' }, createdAt: i }),
					status: i < n ? ('queued' as const) : ('failed' as const)
				}))
			),
		connection: (status: string) => connectionListener({ status })
	};
}

describe('watchQueueForBackgroundSync', () => {
	it('registers while actions wait and the tab cannot send; again when more wait or after a new outage; never while connected', () => {
		const f = fakeOutbox();
		let calls = 0;
		const stop = watchQueueForBackgroundSync(f.outbox, async () => (calls++, true));
		expect(calls).toBe(0); // nothing waits
		f.items(0, 2);
		expect(calls).toBe(0); // only failed items: nothing to flush
		f.items(1);
		expect(calls).toBe(1);
		f.items(1);
		expect(calls).toBe(1); // the registration covers it
		f.items(2);
		expect(calls).toBe(2);
		f.connection('connected');
		f.items(3);
		expect(calls).toBe(2); // the tab sends them itself
		f.connection('disconnected');
		expect(calls).toBe(3); // a new outage with items waiting
		f.items(0);
		f.items(1);
		expect(calls).toBe(4);
		stop();
		f.items(5);
		expect(calls).toBe(4);
	});
});

describe('the signed-in user for the worker', () => {
	it('is recorded at once and on every change, sign-out included', async () => {
		const f = fakeOutbox();
		const outbox = { ...f.outbox, user: { id: 'u1' } as { id: string } | null };
		const recorded: Array<string | null> = [];
		watchQueueForBackgroundSync(outbox, async () => true, async (id) => void recorded.push(id));
		expect(recorded).toEqual(['u1']);
		f.items(1);
		expect(recorded).toEqual(['u1']);
		outbox.user = null;
		f.items(0);
		expect(recorded).toEqual(['u1', null]);
		outbox.user = { id: 'u2' };
		f.connection('connecting');
		expect(recorded).toEqual(['u1', null, 'u2']);
	});

	it('a tab that starts signed out records nothing until someone signs in there', () => {
		const f = fakeOutbox();
		const outbox = { ...f.outbox, user: null as { id: string } | null };
		const recorded: Array<string | null> = [];
		watchQueueForBackgroundSync(outbox, async () => true, async (id) => void recorded.push(id));
		f.connection('connecting');
		expect(recorded).toEqual([]);
		outbox.user = { id: 'u3' };
		f.items(0);
		expect(recorded).toEqual(['u3']);
	});
});

describe('requestBackgroundFlush', () => {
	it('is false where there is no service worker (Node)', async () => {
		expect(await requestBackgroundFlush()).toBe(false);
	});
});
