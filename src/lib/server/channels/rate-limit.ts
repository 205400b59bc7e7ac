/**
 * A token bucket per socket, kept as two numbers on the connection so that
 * 100k sockets cost no timers and no closures: tokens refill lazily from the
 * time elapsed since the last take. Pure: the caller passes `now`.
 */

/** Refill rate (tokens per second) and capacity. */
export interface RateLimit {
	perSecond: number;
	burst: number;
}

/** The mutable state of one bucket. */
export interface TokenBucket {
	tokens: number;
	/** When `tokens` was last brought up to date, in ms. */
	updatedAt: number;
}

/** A full bucket at `now`. */
export function createBucket(limit: RateLimit, now: number): TokenBucket {
	return { tokens: limit.burst, updatedAt: now };
}

/**
 * Refill `bucket` for the time since its last update, then take one token.
 * Returns false (and takes nothing) when the bucket is empty. Mutates
 * `bucket` in place: allocating a new one per frame would be the hot path's
 * only garbage.
 */
export function takeToken(bucket: TokenBucket, limit: RateLimit, now: number): boolean {
	const elapsedMs = Math.max(0, now - bucket.updatedAt);
	bucket.tokens = Math.min(limit.burst, bucket.tokens + (elapsedMs * limit.perSecond) / 1000);
	bucket.updatedAt = now;
	if (bucket.tokens < 1) return false;
	bucket.tokens -= 1;
	return true;
}

/** Throws a TypeError unless `limit` is a usable rate limit. */
export function assertRateLimit(limit: RateLimit): void {
	if (typeof limit !== 'object' || limit === null) {
		throw new TypeError('rateLimit must be {perSecond, burst}');
	}
	if (!(Number.isFinite(limit.perSecond) && limit.perSecond > 0)) {
		throw new TypeError(`rateLimit.perSecond must be a positive number, got ${String(limit.perSecond)}`);
	}
	if (!(Number.isFinite(limit.burst) && limit.burst >= 1)) {
		throw new TypeError(`rateLimit.burst must be a number >= 1, got ${String(limit.burst)}`);
	}
}
