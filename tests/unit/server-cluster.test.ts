import { describe, expect, it } from 'vitest';
import { MAX_WORKERS, workersFromEnv } from '../../src/lib/server/cluster.js';

describe('WORKERS', () => {
	it('is 1 when unset or empty, and any count up to the limit with DATABASE_URL', () => {
		expect(workersFromEnv({})).toBe(1);
		expect(workersFromEnv({ WORKERS: '' })).toBe(1);
		expect(workersFromEnv({ WORKERS: '1' })).toBe(1);
		expect(workersFromEnv({ WORKERS: '4', DATABASE_URL: 'postgres://db/x' })).toBe(4);
		expect(workersFromEnv({ WORKERS: String(MAX_WORKERS), DATABASE_URL: 'postgres://db/x' })).toBe(MAX_WORKERS);
	});

	it.each(['0', '-1', '1.5', 'two', String(MAX_WORKERS + 1)])('refuses WORKERS=%s with a message naming the variable', (raw) => {
		expect(() => workersFromEnv({ WORKERS: raw, DATABASE_URL: 'postgres://db/x' })).toThrow(/^WORKERS must be an integer from 1 to \d+, got/);
	});

	it('refuses more than one worker without DATABASE_URL, saying why', () => {
		expect(() => workersFromEnv({ WORKERS: '2' })).toThrow(/WORKERS=2 needs DATABASE_URL/);
	});
});
