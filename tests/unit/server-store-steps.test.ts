import { describe, expect, it } from 'vitest';
import { done, runAsync, runSync, wait, type Step } from '../../src/lib/server/store/steps.js';

/** One flow, run against a synchronous and an asynchronous "driver". */
function* total(read: (n: number) => Step<number>): Step<number> {
	let sum = 0;
	for (const n of [1, 2, 3]) sum += yield* read(n);
	return sum;
}

describe('store steps: one flow for synchronous and asynchronous drivers', () => {
	it('runs the same flow on values (runSync) and on promises (runAsync)', async () => {
		expect(runSync(total((n) => done(n * 10)))).toBe(60);
		expect(await runAsync(total((n) => wait(Promise.resolve(n * 10))))).toBe(60);
	});

	it('refuses to run a flow synchronously when a query pauses on a promise', () => {
		expect(() => runSync(total((n) => wait(Promise.resolve(n))))).toThrow(/runAsync/);
	});

	it('throws a rejected query back into the flow, where it can be caught', async () => {
		function* recover(): Step<string> {
			try {
				yield* wait(Promise.reject(new Error('deadlock')));
				return 'not reached';
			} catch (error) {
				return `caught ${(error as Error).message}`;
			}
		}
		expect(await runAsync(recover())).toBe('caught deadlock');
		await expect(runAsync(wait(Promise.reject(new Error('gone'))))).rejects.toThrow('gone');
	});
});
