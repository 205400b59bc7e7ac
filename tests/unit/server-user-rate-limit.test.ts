import { describe, expect, it } from 'vitest';
import { UserRateLimiter } from '../../src/lib/server/http/user-rate-limit';

describe('UserRateLimiter', () => {
	it('gives each user a burst, then refills at the rate; Retry-After counts whole seconds, at least 1', () => {
		const limiter = new UserRateLimiter({ perSecond: 0.5, burst: 2 });
		expect([limiter.take('a', 0), limiter.take('a', 0), limiter.take('a', 0)]).toEqual([true, true, false]);
		expect(limiter.take('b', 0)).toBe(true);
		expect(limiter.retryAfterS('a', 0)).toBe(2);
		expect(limiter.take('a', 1999)).toBe(false);
		expect(limiter.take('a', 2000)).toBe(true);
		expect(limiter.retryAfterS('nobody', 0)).toBe(1);
	});

	it('forgets users whose bucket refilled once it holds more than 10,000, and keeps the ones still limited', () => {
		const limiter = new UserRateLimiter({ perSecond: 10, burst: 1 });
		for (let i = 0; i <= 10_000; i++) limiter.take(`u${i}`, 0);
		// Over 10,000 but nobody refilled yet (burst 1 at 10/s takes 100 ms): nobody is forgotten.
		limiter.take('busy', 50);
		expect(limiter.size).toBe(10_002);
		limiter.take('late', 120);
		// Everyone from t=0 refilled and is forgotten; `busy` (t=50) is still limited and kept.
		expect(limiter.size).toBe(2);
		expect(limiter.take('busy', 120)).toBe(false);
	});
});
