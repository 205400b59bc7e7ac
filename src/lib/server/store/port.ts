/**
 * The store port: everything the chat needs from a database. One contract
 * test suite (`tests/protocol/store-contract.ts`) runs against every
 * implementation (SQLite now, PostgreSQL later).
 *
 * Idempotency lives here, at the database boundary: `(author_id, client_id)`
 * is unique and the first outcome is stored and returned on every replay.
 */
import type { Action, Message, Reason, User } from '../../protocol/index.js';

export interface StoredUser extends User {
	/** scrypt hash string (format owned by `auth/passwords.ts`). */
	passwordHash: string;
	createdAt: string;
}

/** The outcome of one action, exactly what goes on the wire in `results`. */
export type ActionResult =
	| { client_id: string; status: 'ok'; message: Message }
	| { client_id: string; status: 'ok'; unread_count: number }
	| { client_id: string; status: 'error'; reason: Reason; message?: string };

export interface ApplyOutcome {
	results: ActionResult[];
	/** Messages created or changed by this call (not by replays), for broadcasting, in change order. */
	created: Message[];
	updated: Message[];
}

export interface SyncPage {
	messages: Message[];
	cursor: string;
	unread_count: number;
	complete: boolean;
}

export interface HistoryPage {
	messages: Message[];
	cursor: string;
}

export interface ChatStore {
	/** Find a user by name, case-insensitively (the key is `name.trim().toLowerCase()`). */
	findUserByName(name: string): Promise<StoredUser | null>;
	findUserById(id: string): Promise<StoredUser | null>;
	/**
	 * Create a user; when the name is taken already, return the existing one
	 * with `created: false` (two first sign-ins racing create one account).
	 */
	createUser(name: string, passwordHash: string): Promise<{ user: StoredUser; created: boolean }>;

	/** Revoke a token id until its expiry time (ms since epoch). */
	revokeToken(tokenId: string, expiresAtMs: number): Promise<void>;
	isTokenRevoked(tokenId: string): Promise<boolean>;

	/** Create the room on first use; idempotent. */
	ensureRoom(slug: string): Promise<void>;

	/**
	 * Apply validated actions by one author in one room, in one transaction,
	 * results in the order given. Replays (same author + client_id) return the
	 * stored first outcome and change nothing. Permanent domain errors
	 * (`forbidden`: not the author; `conflict`: stale base_version or already
	 * deleted) are stored too, so a replay is stable. An id that is not a
	 * message of this room is `invalid` and is not stored (the client_id stays
	 * free). `seq` is allocated inside the transaction, gap-free.
	 */
	applyActions(author: User, room: string, actions: Action[]): Promise<ApplyOutcome>;

	/**
	 * The room's change history after `since` (null: the whole room in `seq`
	 * order), at most `limit` messages (≤ 500), each once per run, with the
	 * user's unread count. Throws `InvalidCursorError` for a cursor it never gave.
	 */
	sync(room: string, userId: string, since: string | null, limit: number): Promise<SyncPage>;

	/** The `limit` messages just below `before` (newest when null), in `seq` order, and the current cursor. */
	history(room: string, before: number | null, limit: number): Promise<HistoryPage>;

	/** Others' non-deleted messages above the user's read marker. */
	unreadCount(room: string, userId: string): Promise<number>;

	/** Rooms the user has posted in or read, with unread counts (for a room list). */
	roomsForUser(userId: string): Promise<{ slug: string; unread_count: number; last_seq: number }[]>;

	/** Resolves when the database answers a trivial query (readiness checks); rejects with why not. */
	ping(): Promise<void>;

	close(): Promise<void>;
}

/** The unique key of a user name: trimmed and lowercased (every store, and the sign-in limits, key names by it). */
export function nameKey(name: string): string {
	return name.trim().toLowerCase();
}

export class InvalidCursorError extends Error {
	readonly reason = 'invalid' as const;
	constructor(cursor: string) {
		super(`cursor ${JSON.stringify(cursor)} was not given by this server`);
		this.name = 'InvalidCursorError';
	}
}
