/**
 * Fixed-window counters for failed sign-in attempts, per key (a name, an address),
 * in memory: the single process's limiter. A cluster (`DATABASE_URL`) counts
 * in PostgreSQL instead (`shared-limits.ts`), so nodes do not each grant an
 * allowance. Old windows are swept as keys are touched.
 */
export class AttemptLimiter {
	readonly #max: number;
	readonly #windowMs: number;
	readonly #now: () => number;
	readonly #hits = new Map<string, { count: number; resetAt: number }>();

	constructor(options: { max: number; windowMs: number; now?: () => number }) {
		if (!(options.max >= 1) || !(options.windowMs > 0)) {
			throw new TypeError('AttemptLimiter needs max >= 1 and windowMs > 0');
		}
		this.#max = options.max;
		this.#windowMs = options.windowMs;
		this.#now = options.now ?? Date.now;
	}

	/** Ms to wait before `key` may try again (it has used up its window), else 0. Counts nothing. */
	wait(key: string): number {
		const now = this.#now();
		const entry = this.#hits.get(key);
		if (!entry || entry.resetAt <= now) return 0;
		return entry.count >= this.#max ? entry.resetAt - now : 0;
	}

	/** Count one attempt against `key`. */
	record(key: string): void {
		const now = this.#now();
		if (this.#hits.size > 10_000) this.#sweep(now);
		const entry = this.#hits.get(key);
		if (!entry || entry.resetAt <= now) this.#hits.set(key, { count: 1, resetAt: now + this.#windowMs });
		else entry.count++;
	}

	#sweep(now: number) {
		for (const [key, entry] of this.#hits) if (entry.resetAt <= now) this.#hits.delete(key);
	}
}
