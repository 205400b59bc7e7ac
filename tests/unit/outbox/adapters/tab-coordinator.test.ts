/**
 * The tab coordinator's Node-testable paths: the one-tab fallback, the
 * BroadcastChannel messaging (Node has it), and the localStorage lease under
 * fake time with a stand-in localStorage. Web Locks and real tabs are covered
 * in Chromium (tests/e2e/kit-adapters.spec.ts).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createTabCoordinator, type BrowserTabCoordinator } from '../../../../src/lib/outbox/adapters/tab-coordinator.js';

const open: BrowserTabCoordinator<unknown>[] = [];
const make = (options: Parameters<typeof createTabCoordinator>[0]) => {
	const tabs = createTabCoordinator<unknown>(options);
	open.push(tabs);
	return tabs;
};
afterEach(() => {
	for (const tabs of open.splice(0)) tabs.close();
	vi.useRealTimers();
	vi.unstubAllGlobals();
});

function memoryLocalStorage(): Storage {
	const data = new Map<string, string>();
	return {
		get length() {
			return data.size;
		},
		clear: () => data.clear(),
		getItem: (key) => data.get(key) ?? null,
		key: (i) => [...data.keys()][i] ?? null,
		removeItem: (key) => void data.delete(key),
		setItem: (key, value) => void data.set(key, String(value))
	};
}

describe('createTabCoordinator', () => {
	it('checks its options', () => {
		expect(() => createTabCoordinator({ name: '' })).toThrow(TypeError);
		expect(() => createTabCoordinator({ name: 'x', leaseMs: 0 })).toThrow(TypeError);
	});

	it('with neither Web Locks nor localStorage (Node) the one tab leads at once; resign steps down', () => {
		const tabs = make({ name: 'outbox:node' });
		expect(tabs.mechanisms.election).toBe('single');
		expect(tabs.isLeader()).toBe(true);
		const log: boolean[] = [];
		tabs.subscribe((leading) => log.push(leading));
		tabs.resign();
		tabs.resign();
		expect(tabs.isLeader()).toBe(false);
		expect(log).toEqual([false]);
	});

	it('BroadcastChannel messages reach the other coordinators of the name, not the sender, until closed', async () => {
		const a = make({ name: 'outbox:bc' });
		const b = make({ name: 'outbox:bc' });
		const other = make({ name: 'outbox:someone-else' });
		const got = { a: [] as unknown[], b: [] as unknown[], other: [] as unknown[] };
		a.onBroadcast((m) => got.a.push(m));
		b.onBroadcast((m) => got.b.push(m));
		other.onBroadcast((m) => got.other.push(m));
		a.broadcast({ kind: 'flush-requested', namespace: 'u1' });
		await vi.waitFor(() => expect(got.b).toEqual([{ kind: 'flush-requested', namespace: 'u1' }]));
		b.close();
		a.broadcast({ kind: 'flush-requested', namespace: 'u2' });
		await new Promise((r) => setTimeout(r, 30));
		expect(got.b).toHaveLength(1);
		expect(got.a).toEqual([]);
		expect(got.other).toEqual([]);
	});

	describe('lease fallback (localStorage)', () => {
		const setup = () => {
			vi.useFakeTimers({ now: 1_000_000 });
			const storage = memoryLocalStorage();
			vi.stubGlobal('localStorage', storage);
			return storage;
		};

		it('a stale lease is taken over; a live one is respected until it goes stale', () => {
			const storage = setup();
			storage.setItem('outbox:l:lease', JSON.stringify({ id: 'dead-tab', expiresAt: Date.now() + 600 }));
			const tabs = make({ name: 'outbox:l', leaseMs: 600, election: 'lease' });
			expect(tabs.mechanisms.election).toBe('lease');
			vi.advanceTimersByTime(550);
			expect(tabs.isLeader()).toBe(false);
			vi.advanceTimersByTime(300); // the lease expired at +600; the next heartbeat takes it, then settles
			expect(tabs.isLeader()).toBe(true);
			expect(JSON.parse(storage.getItem('outbox:l:lease')!).id).not.toBe('dead-tab');
		});

		it('the leader renews its lease; a second tab waits; closing hands over at once', () => {
			setup();
			const a = make({ name: 'outbox:l2', leaseMs: 600, election: 'lease' });
			vi.advanceTimersByTime(100);
			expect(a.isLeader()).toBe(true);
			const b = make({ name: 'outbox:l2', leaseMs: 600, election: 'lease' });
			vi.advanceTimersByTime(3000);
			expect(a.isLeader()).toBe(true);
			expect(b.isLeader()).toBe(false);
			a.close(); // removes the lease; in a browser b hears the storage event, here its heartbeat
			vi.advanceTimersByTime(300);
			expect(b.isLeader()).toBe(true);
		});

		it('a leader that finds its lease taken (it was frozen) steps down', () => {
			const storage = setup();
			const a = make({ name: 'outbox:l3', leaseMs: 600, election: 'lease' });
			vi.advanceTimersByTime(100);
			expect(a.isLeader()).toBe(true);
			const log: boolean[] = [];
			a.subscribe((leading) => log.push(leading));
			storage.setItem('outbox:l3:lease', JSON.stringify({ id: 'newer-tab', expiresAt: Date.now() + 600 }));
			vi.advanceTimersByTime(250);
			expect(a.isLeader()).toBe(false);
			expect(log).toEqual([false]);
		});

		it('asked isLeader() before its next heartbeat, a resumed leader whose lease is taken steps down at once', () => {
			const storage = setup();
			const a = make({ name: 'outbox:l4', leaseMs: 600, election: 'lease' });
			vi.advanceTimersByTime(100);
			expect(a.isLeader()).toBe(true);
			const log: boolean[] = [];
			a.subscribe((leading) => log.push(leading));
			storage.setItem('outbox:l4:lease', JSON.stringify({ id: 'newer-tab', expiresAt: Date.now() + 600 }));
			expect(a.isLeader()).toBe(false); // no timer ran: the question itself read the lease
			expect(log).toEqual([false]);
			// A stale lease of another tab is not a takeover: the leader keeps leading and renews.
			const b = make({ name: 'outbox:l5', leaseMs: 600, election: 'lease' });
			vi.advanceTimersByTime(100);
			storage.setItem('outbox:l5:lease', JSON.stringify({ id: 'gone-tab', expiresAt: Date.now() - 1 }));
			expect(b.isLeader()).toBe(true);
		});
	});
});
