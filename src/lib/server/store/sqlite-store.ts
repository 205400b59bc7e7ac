/**
 * The embedded (default) chat store: one SQLite file through better-sqlite3.
 *
 * Writes run under `BEGIN IMMEDIATE`, so several connections (processes,
 * worker threads) on one file serialise cleanly and the per-room counters in
 * `rooms` hand out gap-free `seq` and change numbers. Reads run in a deferred
 * transaction, which in WAL mode is one consistent snapshot.
 *
 * Only the queries and transactions are here; every rule is the shared one
 * (`chat-store.ts`, `rules.ts`, `apply-actions.ts`).
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { createChatStore } from './chat-store.js';
import type { ChatStore } from './port.js';
import type { ActionQueries, StoreDriver, StoreQueries } from './queries.js';
import { sqliteActionQueries } from './sqlite-actions.js';
import { migrate } from './sqlite-migrations.js';
import { prepareStatements, toMessage, toStoredUser, type MessageRow, type Statements } from './sqlite-statements.js';
import { runSync, type Step } from './steps.js';

export interface SqliteStoreOptions {
	/** Database file path, or `':memory:'`. Its directory is created when missing. */
	file: string;
	/** How long a writer waits for another connection's lock, in ms (default 5000). */
	busyTimeoutMs?: number;
}

/**
 * Open (creating and migrating when needed) a SQLite chat store.
 *
 * @example
 * const store = createSqliteStore({ file: join(process.env.DATA_DIR ?? 'data', 'outbox.db') });
 * const { user } = await store.createUser('Ada', hash);
 */
export function createSqliteStore(options: SqliteStoreOptions): ChatStore {
	const { file, busyTimeoutMs = 5000 } = options;
	if (typeof file !== 'string' || file === '') {
		throw new TypeError("createSqliteStore needs { file: '<path>' } or { file: ':memory:' }");
	}
	return createChatStore(sqliteDriver(openDatabase(file, busyTimeoutMs)));
}

/** Open the file (its directory made when missing) in WAL mode, migrated to the latest schema. */
export function openDatabase(file: string, busyTimeoutMs: number): Database.Database {
	if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
	const db = new Database(file, { timeout: busyTimeoutMs });
	db.pragma('journal_mode = WAL');
	db.pragma('synchronous = NORMAL');
	db.pragma('foreign_keys = ON');
	migrate(db);
	return db;
}

/** Transactions for the rules' flows on one connection, with writes grouped into shared commits. */
function sqliteDriver(db: Database.Database): StoreDriver {
	const st = prepareStatements(db);
	const queries = sqliteQueries(st);
	const actionQueries = sqliteActionQueries(st);

	// Transaction wrappers made once. Reads run deferred: in WAL mode, one consistent snapshot.
	const readTx = db.transaction((flow: (q: StoreQueries) => Step<unknown>) => runSync(flow(queries)));
	const writeOne = db.transaction((flow: (q: ActionQueries) => Step<unknown>) => runSync(flow(actionQueries)));

	// Group commit: every write made in one turn of the event loop (the pushes
	// of all sockets read in one poll) shares one transaction. A commit costs
	// far more than an action (BENCHMARKS.md), and each caller still hears back
	// only after the commit that holds its writes. Writers take the lock up
	// front (`.immediate`), so two connections never deadlock upgrading a read
	// lock. One call's error must roll back only that call: the group first
	// runs with no savepoints (a savepoint per call cost more than the call's
	// own statements); if a call throws, that attempt is rolled back whole and
	// the group runs again with each call in its own savepoint (a nested
	// better-sqlite3 transaction). Flows are functions, so each attempt starts
	// afresh.
	interface WriteJob {
		flow: (q: ActionQueries) => Step<unknown>;
		resolve: (value: unknown) => void;
		reject: (error: unknown) => void;
		done?: { value: unknown };
		error?: unknown;
	}
	let queued: WriteJob[] = [];
	const CALL_FAILED = Symbol('a call of the group threw');
	const writeAll = db.transaction((jobs: WriteJob[]) => {
		for (const job of jobs) {
			try {
				job.done = { value: runSync(job.flow(actionQueries)) };
			} catch (error) {
				job.error = error;
				throw CALL_FAILED;
			}
		}
	});
	const writeEach = db.transaction((jobs: WriteJob[]) => {
		for (const job of jobs) {
			try {
				job.done = { value: writeOne(job.flow) };
			} catch (error) {
				job.error = error;
			}
		}
	});
	const commitGroup = () => {
		const jobs = queued;
		queued = [];
		if (jobs.length === 0) return;
		try {
			try {
				writeAll.immediate(jobs);
			} catch (error) {
				if (error !== CALL_FAILED || jobs.length === 1) throw error === CALL_FAILED ? jobs[0]!.error : error;
				for (const job of jobs) job.done = job.error = undefined;
				writeEach.immediate(jobs);
			}
		} catch (error) {
			// The commit itself failed (a lock held past the busy timeout, say): nothing of the group stands.
			for (const job of jobs) {
				job.done = undefined;
				job.error ??= error;
			}
		}
		for (const job of jobs) {
			if (job.done) job.resolve(job.done.value);
			else job.reject(job.error);
		}
	};

	return {
		async run<T>(flow: (q: StoreQueries) => Step<T>) {
			return runSync(flow(queries));
		},
		async read<T>(flow: (q: StoreQueries) => Step<T>) {
			return readTx.deferred(flow) as T;
		},
		async write<T>(flow: (q: ActionQueries) => Step<T>) {
			if (!db.open) throw new TypeError('the store is closed');
			return new Promise<T>((resolve, reject) => {
				if (queued.length === 0) setImmediate(commitGroup);
				queued.push({ flow, resolve: resolve as (value: unknown) => void, reject });
			});
		},
		async ping() {
			if (!db.open) throw new Error('the SQLite database is closed');
			db.prepare('SELECT 1').get();
		},
		async close() {
			if (queued.length) commitGroup();
			if (db.open) db.close();
		}
	};
}

/** The SQLite answers to the rules' queries outside the action flow. */
function sqliteQueries(st: Statements): StoreQueries {
	const stored = (row: MessageRow) => ({ message: toMessage(row), change: row.change_seq });
	return {
		*userByKey(key) {
			const row = st.userByKey.get(key);
			return row ? toStoredUser(row) : null;
		},
		*userById(id) {
			const row = st.userById.get(id);
			return row ? toStoredUser(row) : null;
		},
		*insertUser(user) {
			return st.insertUser.run(user.id, user.name, user.key, user.passwordHash, user.createdAt).changes === 1;
		},
		*revokeToken(tokenId, expiresAtMs) {
			st.revokeToken.run(tokenId, expiresAtMs);
		},
		*pruneRevokedTokens(nowMs) {
			st.pruneRevokedTokens.run(nowMs);
		},
		*isTokenRevoked(tokenId) {
			return st.isTokenRevoked.get(tokenId) !== undefined;
		},
		*ensureRoom(slug, at) {
			st.ensureRoom.run(slug, at);
		},
		*roomCounters(room) {
			return st.roomCounters.get(room) ?? null;
		},
		*unreadCount(room, userId) {
			return st.unreadCount.get({ room, userId })!;
		},
		*roomsForUser(userId) {
			return st.roomsForUser.all(userId);
		},
		*snapshotPage(room, afterSeq, maxChange, limit) {
			return st.snapshotPage.all(room, afterSeq, maxChange, limit).map(stored);
		},
		*changesPage(room, afterChange, limit) {
			return st.changesPage.all(room, afterChange, limit).map(stored);
		},
		*historyPage(room, beforeSeq, limit) {
			return st.historyPage.all(room, beforeSeq, limit).map(toMessage);
		}
	};
}
