/**
 * The cluster chat store: PostgreSQL through a `pg` Pool. Same tables and
 * semantics as the SQLite store; several server processes on one database
 * (and schema) share it safely.
 *
 * Writes (`applyActions`) run in one READ COMMITTED transaction that first
 * locks the room row, so a room's writers are serialised across processes
 * while other rooms proceed in parallel. Reads that need several statements
 * (`sync`, `history`) run in one REPEATABLE READ snapshot.
 *
 * Only the queries and transactions are here; every rule is the shared one
 * (`chat-store.ts`, `rules.ts`, `apply-actions.ts`).
 */
import pg from 'pg';
import type { Logger } from '../logger.js';
import { createChatStore } from './chat-store.js';
import { IdempotencyRace, pgActionQueries } from './pg-actions.js';
import { inTransaction, type PgConnectionOptions } from './pg-connection.js';
import { openMigratedPool } from './pg-migrations.js';
import { run, toMessage, toStoredUser, type MessageRow, type Queryable, type RoomCounters, type UserRow } from './pg-statements.js';
import type { ChatStore } from './port.js';
import type { RoomSummary, StoreQueries } from './queries.js';
import { runAsync, wait } from './steps.js';

export interface PgStoreOptions extends PgConnectionOptions {
	/** Most connections this store opens (default 10). */
	poolSize?: number;
	/** Where to report idle connections that fail (default: console). */
	logger?: Pick<Logger, 'error'>;
}

/** How often one call is re-run after a deadlock or an idempotency race before giving up. */
const MAX_ATTEMPTS = 5;
const READ_SNAPSHOT = 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY';

/**
 * Connect, migrate (creating the schema when missing) and return a store.
 * Rejects with a message naming the server when PostgreSQL cannot be reached.
 *
 * @example
 * const store = await createPgStore({ connectionString: process.env.DATABASE_URL!, schema: 'outbox' });
 */
export async function createPgStore(options: PgStoreOptions): Promise<ChatStore> {
	const { pool } = await openMigratedPool('createPgStore', options, 'store', 10);
	const transaction = <T>(begin: string, work: (client: pg.PoolClient) => Promise<T>) => inTransaction(pool, begin, work);

	const poolQueries = pgQueries(pool);
	return createChatStore({
		run: (flow) => runAsync(flow(poolQueries)),
		read: (flow) => transaction(READ_SNAPSHOT, (client) => runAsync(flow(pgQueries(client)))),
		async write(flow) {
			// Writes run READ COMMITTED; the room lock the flow takes orders a room's writers.
			for (let attempt = 1; ; attempt++) {
				try {
					return await transaction('BEGIN', (client) => runAsync(flow(pgActionQueries(client))));
				} catch (error) {
					if (attempt >= MAX_ATTEMPTS || !isRetryable(error)) throw error;
				}
			}
		},
		async ping() {
			await pool.query('SELECT 1');
		},
		async close() {
			if (!pool.ended) await pool.end();
		}
	});
}

/** Deadlocks and serialisation failures (two writers crossing) and our own idempotency race: run again. */
function isRetryable(error: unknown): boolean {
	if (error instanceof IdempotencyRace) return true;
	const code = (error as { code?: unknown } | null)?.code;
	return code === '40P01' || code === '40001';
}

/** The PostgreSQL answers to the rules' queries outside the action flow, on the pool or one client. */
function pgQueries(db: Queryable): StoreQueries {
	const stored = (row: MessageRow) => ({ message: toMessage(row), change: row.change_seq });
	return {
		*userByKey(key) {
			const row = (yield* wait(run<UserRow>(db, 'userByKey', [key]))).rows[0];
			return row ? toStoredUser(row) : null;
		},
		*userById(id) {
			const row = (yield* wait(run<UserRow>(db, 'userById', [id]))).rows[0];
			return row ? toStoredUser(row) : null;
		},
		*insertUser(user) {
			const { rowCount } = yield* wait(run(db, 'insertUser', [user.id, user.name, user.key, user.passwordHash, user.createdAt]));
			return rowCount === 1;
		},
		*revokeToken(tokenId, expiresAtMs) {
			yield* wait(run(db, 'revokeToken', [tokenId, expiresAtMs]));
		},
		*pruneRevokedTokens(nowMs) {
			yield* wait(run(db, 'pruneRevokedTokens', [nowMs]));
		},
		*isTokenRevoked(tokenId) {
			return ((yield* wait(run(db, 'isTokenRevoked', [tokenId]))).rowCount ?? 0) > 0;
		},
		*ensureRoom(slug, at) {
			yield* wait(run(db, 'ensureRoom', [slug, at]));
		},
		*roomCounters(room) {
			return (yield* wait(run<RoomCounters>(db, 'roomCounters', [room]))).rows[0] ?? null;
		},
		*unreadCount(room, userId) {
			return (yield* wait(run<{ n: number }>(db, 'unreadCount', [room, userId]))).rows[0]!.n;
		},
		*roomsForUser(userId) {
			return (yield* wait(run<RoomSummary>(db, 'roomsForUser', [userId]))).rows;
		},
		*snapshotPage(room, afterSeq, maxChange, limit) {
			return (yield* wait(run<MessageRow>(db, 'snapshotPage', [room, afterSeq, maxChange, limit]))).rows.map(stored);
		},
		*changesPage(room, afterChange, limit) {
			return (yield* wait(run<MessageRow>(db, 'changesPage', [room, afterChange, limit]))).rows.map(stored);
		},
		*historyPage(room, beforeSeq, limit) {
			return (yield* wait(run<MessageRow>(db, 'historyPage', [room, beforeSeq, limit]))).rows.map(toMessage);
		}
	};
}
