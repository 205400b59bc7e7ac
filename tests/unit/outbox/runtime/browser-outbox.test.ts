import { describe, expect, it } from 'vitest';
import { createBrowserOutbox, UserScopedTabs } from '../../../../src/lib/outbox/browser.js';
import type { TabCoordinator, TabMessage } from '../../../../src/lib/outbox/ports.js';
import { MemoryStorage } from '../../../../src/lib/outbox/testing/memory-storage.js';
import { TabHub } from './harness.js';

describe('createBrowserOutbox', () => {
	it('elects a leader per user: switching users leaves one election and joins the other', async () => {
		const hubs = new Map<string, TabHub>();
		const made: string[] = [];
		const make = (id: string): TabCoordinator => {
			made.push(id);
			if (!hubs.has(id)) hubs.set(id, new TabHub());
			return (hubs.get(id) as TabHub).tab();
		};
		const first = new UserScopedTabs(make);
		const second = new UserScopedTabs(make);
		const seen: boolean[] = [];
		second.subscribe((v) => seen.push(v));
		first.switchTo('ann');
		second.switchTo('ann');
		expect([first.isLeader(), second.isLeader()]).toEqual([true, false]);
		second.switchTo('bob');
		expect(second.isLeader()).toBe(true); // alone in bob's election
		expect(seen).toEqual([true]);
		const heard: TabMessage[] = [];
		second.onBroadcast((m) => heard.push(m));
		const third = new UserScopedTabs(make);
		const thirdHeard: TabMessage[] = [];
		third.onBroadcast((m) => thirdHeard.push(m));
		third.switchTo('ann');
		first.broadcast({ kind: 'flush-requested', namespace: 'ann' });
		await new Promise((resolve) => setTimeout(resolve, 0));
		expect(thirdHeard).toEqual([{ kind: 'flush-requested', namespace: 'ann' }]);
		second.close();
		expect(second.isLeader()).toBe(false);
		expect(seen).toEqual([true, false]);
		expect(made).toEqual(['ann', 'ann', 'bob', 'ann']);
		expect(heard).toEqual([]); // bob's channel never hears ann's tabs
	});

	it('builds an engine on the given ports and checks its options', () => {
		expect(() => createBrowserOutbox({} as never)).toThrow(/token/);
		const transport = {
			connect() {},
			disconnect() {},
			reconnectNow() {},
			joinError: () => null,
			status: () => ({ status: 'disconnected' as const }),
			subscribeStatus: () => () => {},
			join: async () => ({ status: 'closed' as const }),
			leave: async () => {},
			channelState: () => 'closed' as const,
			subscribeChannel: () => () => {},
			push: async () => ({ status: 'closed' as const }),
			onMessage: () => () => {}
		};
		const storage = new MemoryStorage();
		const outbox = createBrowserOutbox({ token: () => 't', deps: { storage, transport }, eventTarget: null });
		expect(outbox.deps.storage).toBe(storage);
		expect(outbox.deps.transport).toBe(transport);
		expect(outbox.connection.get().status).toBe('disconnected');
	});

	it('is inert on a server (SSR): creating it neither throws nor leaves a rejection, and it queues nothing', async () => {
		expect(typeof (globalThis as { window?: unknown }).window).toBe('undefined');
		const rejections: unknown[] = [];
		const onRejection = (reason: unknown) => rejections.push(reason);
		process.on('unhandledRejection', onRejection);
		try {
			const outbox = createBrowserOutbox({ token: () => 'tok', user: { id: 'u1', name: 'Ann' }, actions: { todo_add: {} } });
			await outbox.ready;
			await new Promise((resolve) => setTimeout(resolve, 20));
			expect(outbox.user).toBeNull(); // `user` is ignored until in a browser
			expect(outbox.connection.get().status).toBe('disconnected');
			await outbox.setUser('u1');
			await expect(outbox.add('todo_add', 'list:a', { title: 'x' })).rejects.toMatchObject({ name: 'StorageError', kind: 'unavailable' });
			expect(outbox.count).toBe(0);
			await outbox.close();
		} finally {
			process.off('unhandledRejection', onRejection);
		}
		expect(rejections).toEqual([]);
	});
});
