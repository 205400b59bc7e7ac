/**
 * The cluster chat store: PostgreSQL through a `pg` Pool. Same tables and
 * semantics as the SQLite store; several server processes on one database
 * (and schema) share it safely.
 *
 * Writes (`applyActions`) run in one READ COMMITTED transaction that first
 * locks the room row, so a room's writers are serialised across processes
 * while other rooms proceed in parallel. Reads that need several statements
 * (`sync`, `history`) run in one REPEATABLE READ snapshot.
 */
import pg from 'pg';
import { LIMITS, SLUG_RE } from '../../protocol/events.js';
import type { Action, User } from '../../protocol/index.js';
import type { Logger } from '../logger.js';
import { cursorFitsRoom, formatCursor, parseCursor, type Cursor } from './cursor.js';
import { randomId } from './ids.js';
import { applyActions, IdempotencyRace } from './pg-actions.js';
import { checkConnectionOptions, clientConfig, connectError, type PgConnectionOptions } from './pg-connection.js';
import { migrate } from './pg-migrations.js';
import { run, toMessage, toStoredUser, type MessageRow, type Queryable, type RoomCounters, type UserRow } from './pg-statements.js';
import { InvalidCursorError, nameKey, type ChatStore, type SyncPage } from './port.js';

export interface PgStoreOptions extends PgConnectionOptions {
	/** Most connections this store opens (default 10). */
	poolSize?: number;
	/** Where to report idle connections that fail (default: console). */
	logger?: Pick<Logger, 'error'>;
}

const EMPTY_ROOM: RoomCounters = { last_seq: 0, last_change: 0 };
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
	const schema = checkConnectionOptions('createPgStore', options);
	const { connectionString, poolSize = 10, logger = { error: (obj, msg) => console.error(msg, obj) } } = options;
	if (!Number.isInteger(poolSize) || poolSize < 1) throw new TypeError(`poolSize must be an integer ≥ 1, got ${poolSize}`);

	const pool = new pg.Pool({ ...clientConfig(connectionString, schema, `outbox-store ${schema}`), max: poolSize });
	// An idle client whose server went away emits here; unhandled, it would crash the process.
	pool.on('error', (err) => logger.error({ err }, 'postgres pool: idle connection failed'));
	try {
		const client = await pool.connect().catch((cause: unknown) => {
			throw connectError('createPgStore', connectionString, cause);
		});
		try {
			await migrate(client, schema);
		} finally {
			client.release();
		}
	} catch (error) {
		await pool.end();
		throw error;
	}

	async function transaction<T>(begin: string, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
		const client = await pool.connect();
		let broken: Error | undefined;
		try {
			await client.query(begin);
			const result = await work(client);
			await client.query('COMMIT');
			return result;
		} catch (error) {
			// A client that cannot even roll back is dropped from the pool.
			await client.query('ROLLBACK').catch((e: Error) => (broken = e));
			throw error;
		} finally {
			client.release(broken);
		}
	}

	const counters = async (db: Queryable, room: string) =>
		(await run<RoomCounters>(db, 'roomCounters', [room])).rows[0] ?? EMPTY_ROOM;
	const unread = async (db: Queryable, room: string, userId: string) =>
		(await run<{ n: number }>(db, 'unreadCount', [room, userId])).rows[0]!.n;

	async function syncPage(db: Queryable, room: string, userId: string, since: string | null, limit: number): Promise<SyncPage> {
		const { last_seq, last_change } = await counters(db, room);
		const cursor: Cursor | null =
			since === null ? { kind: 'snapshot', change: last_change, afterSeq: 0 } : parseCursor(since);
		if (!cursor || !cursorFitsRoom(cursor, last_change, last_seq)) throw new InvalidCursorError(String(since));
		const unread_count = await unread(db, room, userId);

		// One row past the page tells whether there is more.
		if (cursor.kind === 'changes') {
			const { rows } = await run<MessageRow>(db, 'changesPage', [room, cursor.change, limit + 1]);
			const page = rows.slice(0, limit);
			const change = page.at(-1)?.change_seq ?? cursor.change;
			return {
				messages: page.map(toMessage),
				cursor: formatCursor({ kind: 'changes', change }),
				unread_count,
				complete: rows.length <= limit
			};
		}
		const { rows } = await run<MessageRow>(db, 'snapshotPage', [room, cursor.afterSeq, cursor.change, limit + 1]);
		const page = rows.slice(0, limit);
		if (rows.length > limit) {
			const next = formatCursor({ kind: 'snapshot', change: cursor.change, afterSeq: page.at(-1)!.seq });
			return { messages: page.map(toMessage), cursor: next, unread_count, complete: false };
		}
		// Snapshot done: what changed since it began follows in change mode.
		return {
			messages: page.map(toMessage),
			cursor: formatCursor({ kind: 'changes', change: cursor.change }),
			unread_count,
			complete: last_change === cursor.change
		};
	}

	return {
		async findUserByName(name) {
			const row = (await run<UserRow>(pool, 'userByKey', [nameKey(name)])).rows[0];
			return row ? toStoredUser(row) : null;
		},
		async findUserById(id) {
			const row = (await run<UserRow>(pool, 'userById', [id])).rows[0];
			return row ? toStoredUser(row) : null;
		},
		async createUser(name, passwordHash) {
			const display = name.trim();
			if (display === '') throw new TypeError('createUser needs a non-empty name');
			const key = nameKey(display);
			for (;;) {
				const at = new Date().toISOString();
				const { rowCount } = await run(pool, 'insertUser', [randomId(), display, key, passwordHash, at]);
				const row = (await run<UserRow>(pool, 'userByKey', [key])).rows[0];
				if (row) return { user: toStoredUser(row), created: rowCount === 1 };
				// Neither inserted nor found: the random id collided; draw another.
			}
		},

		async revokeToken(tokenId, expiresAtMs) {
			await run(pool, 'revokeToken', [tokenId, Math.ceil(expiresAtMs)]);
			await run(pool, 'pruneRevokedTokens', [Date.now()]);
		},
		async isTokenRevoked(tokenId) {
			return ((await run(pool, 'isTokenRevoked', [tokenId])).rowCount ?? 0) > 0;
		},

		async ensureRoom(slug) {
			checkSlug(slug);
			await run(pool, 'ensureRoom', [slug, new Date().toISOString()]);
		},

		async applyActions(author: User, room: string, actions: Action[]) {
			checkSlug(room);
			for (let attempt = 1; ; attempt++) {
				try {
					return await transaction('BEGIN', (client) => applyActions(client, author, room, actions));
				} catch (error) {
					if (attempt >= MAX_ATTEMPTS || !isRetryable(error)) throw error;
				}
			}
		},

		async sync(room, userId, since, limit) {
			checkLimit('sync', limit, LIMITS.syncPageMax);
			return transaction(READ_SNAPSHOT, (client) => syncPage(client, room, userId, since, limit));
		},

		async history(room, before, limit) {
			checkLimit('history', limit, LIMITS.historyMaxLimit);
			if (before !== null && !(Number.isSafeInteger(before) && before >= 0)) {
				throw new RangeError(`history before must be a seq (an integer ≥ 0) or null, got ${before}`);
			}
			return transaction(READ_SNAPSHOT, async (client) => {
				const { rows } = await run<MessageRow>(client, 'historyPage', [room, before ?? Number.MAX_SAFE_INTEGER, limit]);
				const cursor = formatCursor({ kind: 'changes', change: (await counters(client, room)).last_change });
				return { messages: rows.reverse().map(toMessage), cursor };
			});
		},

		async unreadCount(room, userId) {
			return unread(pool, room, userId);
		},

		async roomsForUser(userId) {
			const { rows } = await run<{ slug: string; unread_count: number; last_seq: number }>(pool, 'roomsForUser', [userId]);
			return rows;
		},

		async ping() {
			await pool.query('SELECT 1');
		},

		async close() {
			if (!pool.ended) await pool.end();
		}
	};
}

/** Deadlocks and serialisation failures (two writers crossing) and our own idempotency race: run again. */
function isRetryable(error: unknown): boolean {
	if (error instanceof IdempotencyRace) return true;
	const code = (error as { code?: unknown } | null)?.code;
	return code === '40P01' || code === '40001';
}

function checkSlug(slug: string): void {
	if (!SLUG_RE.test(slug)) throw new TypeError(`room slug must match ${SLUG_RE}, got ${JSON.stringify(slug)}`);
}

function checkLimit(what: string, limit: number, max: number): void {
	if (!Number.isInteger(limit) || limit < 1 || limit > max) {
		throw new RangeError(`${what} limit must be an integer from 1 to ${max}, got ${limit}`);
	}
}
