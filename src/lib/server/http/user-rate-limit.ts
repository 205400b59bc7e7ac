/**
 * A token bucket per user for HTTP calls (the socket's limit lives on each
 * connection; an HTTP caller has none), in memory: the single process's
 * limiter (a cluster counts in PostgreSQL, `auth/shared-limits.ts`). Buckets
 * that have refilled are forgotten, so the map holds only users who called lately.
 */
import { createBucket, takeToken, type RateLimit, type TokenBucket } from '../channels/rate-limit.js';

/** Default for `POST /api/sync/events`: each call carries up to 100 actions. */
export const DEFAULT_SYNC_EVENTS_RATE_LIMIT: RateLimit = { perSecond: 10, burst: 30 };

/** Past this many remembered users, full buckets are dropped on the next call. */
const PRUNE_ABOVE = 10_000;

export class UserRateLimiter {
	readonly #buckets = new Map<string, TokenBucket>();

	constructor(readonly limit: RateLimit) {}

	/** Take one token for `userId`; false when the user is over the limit. */
	take(userId: string, now = Date.now()): boolean {
		if (this.#buckets.size > PRUNE_ABOVE) this.#prune(now);
		let bucket = this.#buckets.get(userId);
		if (!bucket) this.#buckets.set(userId, (bucket = createBucket(this.limit, now)));
		return takeToken(bucket, this.limit, now);
	}

	/** Seconds until `userId` has a token again (for `Retry-After`), at least 1. */
	retryAfterS(userId: string, now = Date.now()): number {
		const bucket = this.#buckets.get(userId);
		if (!bucket) return 1;
		const missing = Math.max(0, 1 - bucket.tokens);
		const waitMs = (missing * 1000) / this.limit.perSecond - Math.max(0, now - bucket.updatedAt);
		return Math.max(1, Math.ceil(waitMs / 1000));
	}

	get size(): number {
		return this.#buckets.size;
	}

	#prune(now: number): void {
		const refillMs = (this.limit.burst * 1000) / this.limit.perSecond;
		for (const [user, bucket] of this.#buckets) {
			if (now - bucket.updatedAt >= refillMs) this.#buckets.delete(user);
		}
	}
}
