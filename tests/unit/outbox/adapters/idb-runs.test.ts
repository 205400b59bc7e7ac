import { describe, expect, it } from 'vitest';
import { RANGE_DELETE_FROM, wantedRuns } from '../../../../src/lib/outbox/adapters/idb-backend.js';

describe('ranged deletes of the IndexedDB backend', () => {
	it('deletes runs of wanted keys, never a stored key that is not wanted', () => {
		const stored = ['u1/q/a', 'u1/q/b', 'u1/q/c', 'u1/q/d', 'u1/q/e', 'u1/q/f'];
		expect(wantedRuns(stored, new Set(['u1/q/a', 'u1/q/b', 'u1/q/d', 'u1/q/e', 'u1/q/f']))).toEqual([
			['u1/q/a', 'u1/q/b'],
			['u1/q/d', 'u1/q/f']
		]);
		// A key wanted but no longer stored changes nothing; one stored key alone is its own run.
		expect(wantedRuns(stored, new Set(['u1/q/c', 'u1/q/zz']))).toEqual([['u1/q/c', 'u1/q/c']]);
		expect(wantedRuns(stored, new Set())).toEqual([]);
		// Every stored key inside a run is wanted.
		const wanted = new Set(stored.filter((_, i) => i % 3 !== 1));
		for (const [lower, upper] of wantedRuns(stored, wanted)) {
			expect(stored.filter((k) => k >= lower && k <= upper).every((k) => wanted.has(k))).toBe(true);
		}
		expect(RANGE_DELETE_FROM).toBe(8);
	});
});
