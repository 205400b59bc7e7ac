/**
 * The chat store's rules, once for every driver: argument checks and limits,
 * who may change a message, sync paging over cursors, history pages and
 * account creation. Flows are `Step`s over the driver's queries
 * (`queries.ts`); the action flow is in `apply-actions.ts`.
 */
import { LIMITS, SLUG_RE } from '../../protocol/events.js';
import type { Message, User } from '../../protocol/index.js';
import { cursorFitsRoom, formatCursor, parseCursor, type Cursor } from './cursor.js';
import { randomId } from './ids.js';
import { InvalidCursorError, nameKey, type HistoryPage, type StoredUser, type SyncPage } from './port.js';
import type { RoomCounters, StoreQueries } from './queries.js';
import type { Step } from './steps.js';

/** Message ids are the global row id in decimal; anything else names no message. */
export const MESSAGE_ID_RE = /^[1-9][0-9]{0,15}$/;

export const EMPTY_ROOM: RoomCounters = { last_seq: 0, last_change: 0 };

/** Throws a TypeError unless `slug` is a room slug (`[a-z0-9-]{1,40}`). */
export function checkSlug(slug: string): void {
	if (!SLUG_RE.test(slug)) throw new TypeError(`room slug must match ${SLUG_RE}, got ${JSON.stringify(slug)}`);
}

/** Throws a RangeError unless `limit` is an integer from 1 to `max`. */
function checkLimit(what: string, limit: number, max: number): void {
	if (!Number.isInteger(limit) || limit < 1 || limit > max) {
		throw new RangeError(`${what} limit must be an integer from 1 to ${max}, got ${limit}`);
	}
}

/** Throws a RangeError unless `before` is null or a seq. */
function checkHistoryBefore(before: number | null): void {
	if (before !== null && !(Number.isSafeInteger(before) && before >= 0)) {
		throw new RangeError(`history before must be a seq (an integer ≥ 0) or null, got ${before}`);
	}
}

export type ChangeRefusal = { status: 'error'; reason: 'forbidden' | 'conflict'; message: string };

/** Why `author` may not edit or delete `message` from `baseVersion`, or null when they may. */
export function refuseChange(message: Message, author: User, baseVersion: number): ChangeRefusal | null {
	if (message.author.id !== author.id) {
		return { status: 'error', reason: 'forbidden', message: 'only the author may change a message' };
	}
	if (message.deleted) {
		return { status: 'error', reason: 'conflict', message: `message ${message.id} was deleted` };
	}
	if (message.version !== baseVersion) {
		return {
			status: 'error',
			reason: 'conflict',
			message: `base_version ${baseVersion} is stale; message ${message.id} is at version ${message.version}`
		};
	}
	return null;
}

/**
 * One sync page. From `null`, a snapshot of the room in `seq` order as it
 * was when the run began; then (or from a `c.` cursor) every message changed
 * since, in change order. One row past the page tells whether there is more.
 */
export function* syncPage(q: StoreQueries, room: string, userId: string, since: string | null, limit: number): Step<SyncPage> {
	checkLimit('sync', limit, LIMITS.syncPageMax);
	const { last_seq, last_change } = (yield* q.roomCounters(room)) ?? EMPTY_ROOM;
	const cursor: Cursor | null =
		since === null ? { kind: 'snapshot', change: last_change, afterSeq: 0 } : parseCursor(since);
	if (!cursor || !cursorFitsRoom(cursor, last_change, last_seq)) throw new InvalidCursorError(String(since));
	const unread_count = yield* q.unreadCount(room, userId);

	if (cursor.kind === 'changes') {
		const rows = yield* q.changesPage(room, cursor.change, limit + 1);
		const page = rows.slice(0, limit);
		const change = page.at(-1)?.change ?? cursor.change;
		return {
			messages: page.map((row) => row.message),
			cursor: formatCursor({ kind: 'changes', change }),
			unread_count,
			complete: rows.length <= limit
		};
	}
	const rows = yield* q.snapshotPage(room, cursor.afterSeq, cursor.change, limit + 1);
	const messages = rows.slice(0, limit).map((row) => row.message);
	if (rows.length > limit) {
		const next = formatCursor({ kind: 'snapshot', change: cursor.change, afterSeq: messages.at(-1)!.seq });
		return { messages, cursor: next, unread_count, complete: false };
	}
	// Snapshot done: what changed since it began follows in change mode.
	return {
		messages,
		cursor: formatCursor({ kind: 'changes', change: cursor.change }),
		unread_count,
		complete: last_change === cursor.change
	};
}

/** The `limit` messages just below `before` (newest when null), ascending, and the room's current cursor. */
export function* historyPage(q: StoreQueries, room: string, before: number | null, limit: number): Step<HistoryPage> {
	checkLimit('history', limit, LIMITS.historyMaxLimit);
	checkHistoryBefore(before);
	const newestFirst = yield* q.historyPage(room, before ?? Number.MAX_SAFE_INTEGER, limit);
	const { last_change } = (yield* q.roomCounters(room)) ?? EMPTY_ROOM;
	return { messages: newestFirst.reverse(), cursor: formatCursor({ kind: 'changes', change: last_change }) };
}

/**
 * Create an account under the trimmed name, or find the one holding its key
 * (two first sign-ins racing make one account). A random id that collides
 * inserts nothing and finds nothing: draw another.
 */
export function* createUser(q: StoreQueries, name: string, passwordHash: string): Step<{ user: StoredUser; created: boolean }> {
	const display = name.trim();
	if (display === '') throw new TypeError('createUser needs a non-empty name');
	const key = nameKey(display);
	for (;;) {
		const user = { id: randomId(), name: display, key, passwordHash, createdAt: new Date().toISOString() };
		const inserted = yield* q.insertUser(user);
		const found = yield* q.userByKey(key);
		if (found) return { user: found, created: inserted };
	}
}

/** Revoke a token until it would have expired, and forget revocations whose tokens have expired. */
export function* revokeToken(q: StoreQueries, tokenId: string, expiresAtMs: number): Step<void> {
	yield* q.revokeToken(tokenId, Math.ceil(expiresAtMs));
	yield* q.pruneRevokedTokens(Date.now());
}
