import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/lib/outbox/testing/fake-clock.js';
import { MemoryStorage } from '../../../src/lib/outbox/testing/memory-storage.js';
import { seededRandom } from '../../../src/lib/outbox/testing/seeded-random.js';
import { isStorageError, StorageError } from '../../../src/lib/outbox/ports.js';
import { item } from './fixtures.js';

describe('FakeClock', () => {
	it('fires due timers in order of due time, then of creation, each at its own time', () => {
		const clock = new FakeClock(100);
		const log: string[] = [];
		clock.setTimeout(() => log.push(`c@${clock.now()}`), 30);
		clock.setTimeout(() => log.push(`a@${clock.now()}`), 10);
		clock.setTimeout(() => log.push(`b@${clock.now()}`), 10);
		clock.setTimeout(() => log.push(`late@${clock.now()}`), 100);
		expect(clock.advance(30)).toBe(3);
		expect(log).toEqual(['a@110', 'b@110', 'c@130']);
		expect(clock.now()).toBe(130);
		expect(clock.pendingTimers).toBe(1);
		expect(clock.nextTimerAt()).toBe(200);
	});

	it('runs timers set by timers when they fall due within the same advance', () => {
		const clock = new FakeClock();
		const log: number[] = [];
		clock.setTimeout(() => {
			log.push(clock.now());
			clock.setTimeout(() => log.push(clock.now()), 5);
		}, 5);
		clock.advance(10);
		expect(log).toEqual([5, 10]);
	});

	it('does not fire a cleared timer', () => {
		const clock = new FakeClock();
		let fired = false;
		const handle = clock.setTimeout(() => (fired = true), 1);
		clock.clearTimeout(handle);
		clock.advance(5);
		expect(fired).toBe(false);
	});

	it('lets promise chains run between timers with advanceAsync', async () => {
		const clock = new FakeClock();
		const log: string[] = [];
		const sleep = (ms: number) => new Promise<void>((r) => clock.setTimeout(r, ms));
		void (async () => {
			await sleep(10);
			log.push(`one@${clock.now()}`);
			await Promise.resolve();
			await sleep(10);
			log.push(`two@${clock.now()}`);
		})();
		await clock.advanceAsync(25);
		expect(log).toEqual(['one@10', 'two@20']);
	});

	it('runAll stops a timer that reschedules itself for ever', () => {
		const clock = new FakeClock();
		const tick = () => clock.setTimeout(tick, 1);
		tick();
		expect(() => clock.runAll(50)).toThrow(/reschedul/);
	});
});

describe('seededRandom', () => {
	it('replays the same sequence for the same seed, in [0, 1)', () => {
		const a = seededRandom(11);
		const b = seededRandom(11);
		const c = seededRandom(12);
		const xs = Array.from({ length: 100 }, () => a());
		expect(Array.from({ length: 100 }, () => b())).toEqual(xs);
		expect(Array.from({ length: 100 }, () => c())).not.toEqual(xs);
		expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
	});
});

describe('MemoryStorage', () => {
	it('stores JSON copies per namespace (users never see each other\'s queue)', async () => {
		const storage = new MemoryStorage();
		const a = item({ id: 'a' });
		await storage.write('u1', { put: [a, item({ id: 'b' })] });
		await storage.write('u2', { put: [item({ id: 'c' })] });
		await storage.write('u1', { remove: ['b', 'unknown'] });
		await storage.write('u2', { put: [item({ id: 'd' })], remove: ['c'] }); // one transaction, both at once
		expect(storage.snapshot('u2').map((i) => i.id)).toEqual(['d']);
		expect((await storage.getAll('u1')).map((i) => i.id)).toEqual(['a']);
		expect((await storage.getAll('u2')).map((i) => i.id)).toEqual(['d']);
		const [back] = await storage.getAll('u1');
		expect(back).toEqual(a);
		expect(back).not.toBe(a);
		await storage.clear('u1');
		expect(await storage.getAll('u1')).toEqual([]);
		expect(storage.namespaces()).toEqual(['u2']);
		expect(storage.stats).toMatchObject({ itemsWritten: 4, itemsRemoved: 2, transactions: 5 });
	});

	it('keeps meta values beside the queue', async () => {
		const storage = new MemoryStorage();
		await storage.write('u1', { meta: { 'cursor:room:lobby': 'c42' } });
		expect(await storage.getMeta('u1', 'cursor:room:lobby')).toBe('c42');
		await storage.write('u1', { meta: { 'cursor:room:lobby': null } });
		expect(await storage.getMeta('u1', 'cursor:room:lobby')).toBeNull();
	});

	it('fails writes with a quota StorageError when told to, writing nothing', async () => {
		const storage = new MemoryStorage();
		storage.failWith('quota', { times: 1 });
		const err = await storage.write('u1', { put: [item({ id: 'a' })] }).catch((e: unknown) => e);
		expect(err).toBeInstanceOf(StorageError);
		expect(isStorageError(err, 'quota')).toBe(true);
		expect(storage.snapshot('u1')).toEqual([]);
		expect(await storage.getAll('u1')).toEqual([]); // reads still work under quota
		await storage.write('u1', { put: [item({ id: 'a' })] }); // only one failure was asked for
		expect(storage.snapshot('u1').map((i) => i.id)).toEqual(['a']);
	});

	it('refuses a batch that would pass maxItems, all or nothing', async () => {
		const storage = new MemoryStorage({ maxItems: 3 });
		await storage.write('u1', { put: [item({ id: 'a' }), item({ id: 'b' })] });
		await expect(storage.write('u1', { put: [item({ id: 'c' }), item({ id: 'd' })] })).rejects.toMatchObject({ kind: 'quota' });
		expect(storage.snapshot('u1').map((i) => i.id)).toEqual(['a', 'b']);
		await storage.write('u1', { put: [item({ id: 'a' }), item({ id: 'c' })] }); // a rewrite needs no room
		expect(storage.snapshot('u1')).toHaveLength(3);
	});

	it('fails everything when unavailable, until told otherwise', async () => {
		const storage = new MemoryStorage();
		storage.failWith('unavailable');
		await expect(storage.getAll('u1')).rejects.toMatchObject({ name: 'StorageError', kind: 'unavailable' });
		await expect(storage.write('u1', { remove: ['a'] })).rejects.toMatchObject({ kind: 'unavailable' });
		storage.failWith(null);
		await expect(storage.getAll('u1')).resolves.toEqual([]);
	});
});
