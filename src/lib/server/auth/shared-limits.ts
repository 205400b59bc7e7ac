/**
 * The limits that must hold across a cluster, kept in PostgreSQL when
 * `DATABASE_URL` is set (`rate-limiter-flexible`'s `RateLimiterPostgres`,
 * table `rate_limits` of the configured schema, created by the store's
 * migrations), so N nodes do not grant N allowances:
 *
 * - wrong passwords per name and per address (a fixed window of 60 s);
 * - `POST /api/sync/events` calls per user: `burst` calls per window of
 *   `burst / perSecond` seconds (30 per 3 s by default: the same average and
 *   burst as the single node's token bucket).
 *
 * Without `DATABASE_URL` one process serves everything (`WORKERS > 1` needs
 * PostgreSQL), and the in-memory `AttemptLimiter` / `UserRateLimiter` are
 * used instead. Per-socket limits are always local: a socket lives on one node.
 */
import pg from 'pg';
import { RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import type { RateLimit } from '../channels/rate-limit.js';
import { clientConfig } from '../store/pg-connection.js';

/** Counts failed attempts per key (sign-in): what the API needs of a limiter. */
export interface AttemptCounter {
	/** Ms to wait before `key` may try again, else 0. Counts nothing. */
	wait(key: string): number | Promise<number>;
	/** Count one failed attempt against `key`. */
	record(key: string): void | Promise<void>;
}

/** Calls per user (HTTP batch): what the API needs of a limiter. */
export interface CallLimiter {
	readonly limit: RateLimit;
	/** Take one call for `userId`; false when over the limit. */
	take(userId: string): boolean | Promise<boolean>;
	/** Seconds until `userId` may call again (for `Retry-After`), at least 1. */
	retryAfterS(userId: string): number | Promise<number>;
}

/** Table of the shared counters (in the configured schema). */
export const RATE_LIMIT_TABLE = 'rate_limits';
/** How often the limiter rows of keys that stopped calling are swept, and how long after their window ends. */
const SWEEP_EVERY_MS = 600_000;
const SWEEP_AFTER_MS = 3_600_000;

export interface SharedLimits {
	byName: AttemptCounter;
	byAddress: AttemptCounter;
	syncEvents: CallLimiter;
	/** Delete the rows of keys whose window ended over an hour before `now` (run every 10 minutes); resolves with how many. */
	sweep(now?: number): Promise<number>;
	close(): Promise<void>;
}

/**
 * The cluster's limiters over one small pool of their own (2 connections).
 *
 * @example
 * const limits = createPgLimits({ connectionString, schema: 'public', perName: 10, perAddress: 60, syncEvents: { perSecond: 10, burst: 30 } });
 */
export function createPgLimits(options: {
	connectionString: string;
	schema: string;
	perName: number;
	perAddress: number;
	windowS?: number;
	syncEvents: RateLimit;
	onError?(err: unknown): void;
}): SharedLimits {
	const pool = new pg.Pool({ ...clientConfig(options.connectionString, options.schema, `outbox-limits ${options.schema}`), max: 2 });
	pool.on('error', (err) => options.onError?.(err));
	const limiter = (keyPrefix: string, points: number, duration: number) =>
		new RateLimiterPostgres({
			storeClient: pool,
			storeType: 'pool',
			schemaName: options.schema,
			tableName: RATE_LIMIT_TABLE,
			// The store's migrations made the table (under their lock: no race between nodes starting at once).
			tableCreated: true,
			keyPrefix,
			points,
			duration
		});
	const windowS = options.windowS ?? 60;
	const { perSecond, burst } = options.syncEvents;
	// Rows of keys that stopped calling: swept every 10 minutes once an hour past their window.
	const sweepExpired = async (now = Date.now()) => (await pool.query(`DELETE FROM ${RATE_LIMIT_TABLE} WHERE expire < $1`, [now - SWEEP_AFTER_MS])).rowCount ?? 0;
	const sweep = setInterval(() => {
		sweepExpired().catch((err: unknown) => options.onError?.(err));
	}, SWEEP_EVERY_MS);
	sweep.unref();
	return {
		sweep: sweepExpired,
		byName: new PgAttempts(limiter('signin_name', options.perName, windowS)),
		byAddress: new PgAttempts(limiter('signin_addr', options.perAddress, windowS)),
		syncEvents: new PgCalls(limiter('sync_events', burst, burst / perSecond), options.syncEvents),
		async close() {
			clearInterval(sweep);
			await pool.end();
		}
	};
}

class PgAttempts implements AttemptCounter {
	constructor(private readonly limiter: RateLimiterPostgres) {}

	async wait(key: string): Promise<number> {
		const res = await this.limiter.get(key);
		return res !== null && res.consumedPoints >= this.limiter.points ? Math.max(1, res.msBeforeNext) : 0;
	}

	async record(key: string): Promise<void> {
		await this.limiter.penalty(key, 1);
	}
}

class PgCalls implements CallLimiter {
	/** The wait of each user's last refused call, read once by `retryAfterS`. */
	readonly #refused = new Map<string, number>();

	constructor(
		private readonly limiter: RateLimiterPostgres,
		readonly limit: RateLimit
	) {}

	async take(userId: string): Promise<boolean> {
		try {
			await this.limiter.consume(userId, 1);
			return true;
		} catch (rejection) {
			if (!(rejection instanceof RateLimiterRes)) throw rejection;
			if (this.#refused.size > 10_000) this.#refused.clear();
			this.#refused.set(userId, rejection.msBeforeNext);
			return false;
		}
	}

	retryAfterS(userId: string): number {
		const ms = this.#refused.get(userId) ?? 1000;
		this.#refused.delete(userId);
		return Math.max(1, Math.ceil(ms / 1000));
	}
}
