/**
 * The embedded (default) chat store: one SQLite file through better-sqlite3.
 *
 * Writes run under `BEGIN IMMEDIATE`, so several connections (processes,
 * worker threads) on one file serialise cleanly and the per-room counters in
 * `rooms` hand out gap-free `seq` and change numbers. Reads run in a deferred
 * transaction, which in WAL mode is one consistent snapshot.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { LIMITS, SLUG_RE } from '../../protocol/events.js';
import type { Action, User } from '../../protocol/index.js';
import { cursorFitsRoom, formatCursor, parseCursor, type Cursor } from './cursor.js';
import { randomId } from './ids.js';
import { InvalidCursorError, nameKey, type ApplyOutcome, type ChatStore, type SyncPage } from './port.js';
import { applyActions } from './sqlite-actions.js';
import { migrate } from './sqlite-migrations.js';
import { prepareStatements, toMessage, toStoredUser, type RoomCounters } from './sqlite-statements.js';

export interface SqliteStoreOptions {
	/** Database file path, or `':memory:'`. Its directory is created when missing. */
	file: string;
	/** How long a writer waits for another connection's lock, in ms (default 5000). */
	busyTimeoutMs?: number;
}

const EMPTY_ROOM: RoomCounters = { last_seq: 0, last_change: 0 };

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
	if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });

	const db = new Database(file, { timeout: busyTimeoutMs });
	db.pragma('journal_mode = WAL');
	db.pragma('synchronous = NORMAL');
	db.pragma('foreign_keys = ON');
	migrate(db);
	const st = prepareStatements(db);

	const counters = (room: string) => st.roomCounters.get(room) ?? EMPTY_ROOM;

	const syncPage = (room: string, userId: string, since: string | null, limit: number): SyncPage => {
		const { last_seq, last_change } = counters(room);
		const cursor: Cursor | null =
			since === null ? { kind: 'snapshot', change: last_change, afterSeq: 0 } : parseCursor(since);
		if (!cursor || !cursorFitsRoom(cursor, last_change, last_seq)) throw new InvalidCursorError(String(since));
		const unread_count = st.unreadCount.get({ room, userId })!;

		// One row past the page tells whether there is more.
		if (cursor.kind === 'changes') {
			const rows = st.changesPage.all(room, cursor.change, limit + 1);
			const page = rows.slice(0, limit);
			const change = page.at(-1)?.change_seq ?? cursor.change;
			return {
				messages: page.map(toMessage),
				cursor: formatCursor({ kind: 'changes', change }),
				unread_count,
				complete: rows.length <= limit
			};
		}
		const rows = st.snapshotPage.all(room, cursor.afterSeq, cursor.change, limit + 1);
		const page = rows.slice(0, limit);
		if (rows.length > limit) {
			const afterSeq = page.at(-1)!.seq;
			const next = formatCursor({ kind: 'snapshot', change: cursor.change, afterSeq });
			return { messages: page.map(toMessage), cursor: next, unread_count, complete: false };
		}
		// Snapshot done: what changed since it began follows in change mode.
		return {
			messages: page.map(toMessage),
			cursor: formatCursor({ kind: 'changes', change: cursor.change }),
			unread_count,
			complete: last_change === cursor.change
		};
	};

	const historyPage = (room: string, before: number | null, limit: number) => {
		const rows = st.historyPage.all(room, before ?? Number.MAX_SAFE_INTEGER, limit);
		const cursor = formatCursor({ kind: 'changes', change: counters(room).last_change });
		return { messages: rows.reverse().map(toMessage), cursor };
	};

	const applyInRoom = (author: User, room: string, actions: Action[]) => {
		st.ensureRoom.run(room, new Date().toISOString());
		return applyActions(st, author, room, actions);
	};

	// Transaction wrappers made once; writers take the write lock up front
	// (`.immediate`) so two connections never deadlock upgrading a read lock.
	const writeActions = db.transaction(applyInRoom);

	// Group commit: every applyActions call made in one turn of the event loop
	// (the pushes of all sockets read in one poll) shares one transaction, each
	// call in its own savepoint (a nested better-sqlite3 transaction), so one
	// call's error rolls back only that call. A commit costs far more than an
	// action (BENCHMARKS.md), and each caller still hears back only after the
	// commit that holds its writes.
	interface WriteJob {
		author: User;
		room: string;
		actions: Action[];
		resolve: (outcome: ApplyOutcome) => void;
		reject: (error: unknown) => void;
		outcome?: ApplyOutcome;
		error?: unknown;
	}
	let queued: WriteJob[] = [];
	const writeGroup = db.transaction((jobs: WriteJob[]) => {
		for (const job of jobs) {
			try {
				job.outcome = writeActions(job.author, job.room, job.actions);
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
			writeGroup.immediate(jobs);
		} catch (error) {
			// The commit itself failed (a lock held past the busy timeout, say): nothing of the group stands.
			for (const job of jobs) {
				job.outcome = undefined;
				job.error ??= error;
			}
		}
		for (const job of jobs) {
			if (job.outcome) job.resolve(job.outcome);
			else job.reject(job.error);
		}
	};
	const readSync = db.transaction(syncPage);
	const readHistory = db.transaction(historyPage);

	return {
		async findUserByName(name) {
			const row = st.userByKey.get(nameKey(name));
			return row ? toStoredUser(row) : null;
		},
		async findUserById(id) {
			const row = st.userById.get(id);
			return row ? toStoredUser(row) : null;
		},
		async createUser(name, passwordHash) {
			const display = name.trim();
			if (display === '') throw new TypeError('createUser needs a non-empty name');
			const key = nameKey(display);
			for (;;) {
				const { changes } = st.insertUser.run(randomId(), display, key, passwordHash, new Date().toISOString());
				const row = st.userByKey.get(key);
				if (row) return { user: toStoredUser(row), created: changes === 1 };
				// Neither inserted nor found: the random id collided; draw another.
			}
		},

		async revokeToken(tokenId, expiresAtMs) {
			st.revokeToken.run(tokenId, Math.ceil(expiresAtMs));
			st.pruneRevokedTokens.run(Date.now());
		},
		async isTokenRevoked(tokenId) {
			return st.isTokenRevoked.get(tokenId) !== undefined;
		},

		async ensureRoom(slug) {
			checkSlug(slug);
			st.ensureRoom.run(slug, new Date().toISOString());
		},

		async applyActions(author: User, room: string, actions: Action[]) {
			checkSlug(room);
			if (!db.open) throw new TypeError('the store is closed');
			return new Promise<ApplyOutcome>((resolve, reject) => {
				if (queued.length === 0) setImmediate(commitGroup);
				queued.push({ author, room, actions, resolve, reject });
			});
		},

		async sync(room, userId, since, limit) {
			checkLimit('sync', limit, LIMITS.syncPageMax);
			return readSync.deferred(room, userId, since, limit);
		},

		async history(room, before, limit) {
			checkLimit('history', limit, LIMITS.historyMaxLimit);
			if (before !== null && !(Number.isSafeInteger(before) && before >= 0)) {
				throw new RangeError(`history before must be a seq (an integer ≥ 0) or null, got ${before}`);
			}
			return readHistory.deferred(room, before, limit);
		},

		async unreadCount(room, userId) {
			return st.unreadCount.get({ room, userId })!;
		},

		async roomsForUser(userId) {
			return st.roomsForUser.all(userId);
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

function checkSlug(slug: string): void {
	if (!SLUG_RE.test(slug)) throw new TypeError(`room slug must match ${SLUG_RE}, got ${JSON.stringify(slug)}`);
}

function checkLimit(what: string, limit: number, max: number): void {
	if (!Number.isInteger(limit) || limit < 1 || limit > max) {
		throw new RangeError(`${what} limit must be an integer from 1 to ${max}, got ${limit}`);
	}
}
