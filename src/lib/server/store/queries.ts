/**
 * What a store driver supplies: queries, and transactions to run flows in.
 * The rules that decide (paging, refusals, idempotency, limits) live once in
 * `rules.ts` and `apply-actions.ts`; a driver (`sqlite-*.ts`, `pg-*.ts`)
 * answers these queries in its own SQL and nothing more.
 *
 * Every query is a `Step` (see `steps.ts`), so one flow runs on a
 * synchronous driver and an asynchronous one alike.
 */
import type { Attachment, Message } from '../../protocol/index.js';
import type { ActionResult, StoredUser } from './port.js';
import type { Step } from './steps.js';

export interface RoomCounters {
	last_seq: number;
	last_change: number;
}

/** A message as stored: the wire form, and the room change number of its latest change. */
export interface StoredMessage {
	message: Message;
	change: number;
}

export interface RoomSummary {
	slug: string;
	unread_count: number;
	last_seq: number;
}

export interface NewUser {
	id: string;
	name: string;
	/** `nameKey(name)`: unique. */
	key: string;
	passwordHash: string;
	createdAt: string;
}

/** A message about to be written (its id is the driver's to give). */
export interface NewMessage {
	room: string;
	authorId: string;
	clientId: string;
	body: string;
	seq: number;
	change: number;
	at: string;
	/** The files it carries, in order (the sender's uploads, checked). */
	attachments: Attachment[];
}

/** An edit or a deletion, as written: the version goes up by one; a deletion also drops the message's files. */
export interface MessageChange {
	body: string;
	deleted: boolean;
	at: string;
	change: number;
}

/** Queries outside the action flow: users, tokens, rooms and reads. */
export interface StoreQueries {
	userByKey(key: string): Step<StoredUser | null>;
	userById(id: string): Step<StoredUser | null>;
	/** Insert unless the id or the name key is taken; true when a row went in. */
	insertUser(user: NewUser): Step<boolean>;

	/** Keep the later expiry when the token is revoked already. */
	revokeToken(tokenId: string, expiresAtMs: number): Step<void>;
	pruneRevokedTokens(nowMs: number): Step<void>;
	isTokenRevoked(tokenId: string): Step<boolean>;

	/** Create the room unless it exists. */
	ensureRoom(slug: string, at: string): Step<void>;
	/** The room's counters, or null when it does not exist. */
	roomCounters(room: string): Step<RoomCounters | null>;
	/** Others' non-deleted messages above the user's read marker. */
	unreadCount(room: string, userId: string): Step<number>;
	/** Rooms the user is a member of, by slug. */
	roomsForUser(userId: string): Step<RoomSummary[]>;

	/** At most `limit` messages above `afterSeq` whose latest change is at or below `maxChange`, in seq order. */
	snapshotPage(room: string, afterSeq: number, maxChange: number, limit: number): Step<StoredMessage[]>;
	/** At most `limit` messages whose latest change is above `afterChange`, in change order. */
	changesPage(room: string, afterChange: number, limit: number): Step<StoredMessage[]>;
	/** The `limit` messages with a seq below `beforeSeq`, newest first. */
	historyPage(room: string, beforeSeq: number, limit: number): Step<Message[]>;
}

/**
 * The queries of one `applyActions` call, inside the driver's write
 * transaction. Made fresh for each call: a driver may hold per-call state
 * (reserved ids, writes it has not sent yet), so long as every query sees
 * the call's earlier writes.
 */
export interface ActionQueries {
	/**
	 * The stored outcomes of these client_ids by this author. `sends` is how
	 * many messages the call may create (a driver may reserve their ids now).
	 */
	prepare(authorId: string, clientIds: string[], sends: number): Step<Map<string, ActionResult>>;
	/** Lock the room until commit, creating it when missing; its counters. */
	lockRoom(room: string, at: string): Step<RoomCounters>;
	/** Those of `uploadIds` that are `ownerId`'s uploads, in any order; they stay until commit. */
	uploadsOf(ownerId: string, uploadIds: string[]): Step<Attachment[]>;
	/** Write a new message (version 1, not deleted) and which uploads it names; resolves to its id. */
	insertMessage(message: NewMessage): Step<string>;
	/** The message with this id in this room (the id already matches `MESSAGE_ID_RE`), or null. */
	messageInRoom(id: string, room: string): Step<Message | null>;
	updateMessage(id: string, change: MessageChange): Step<void>;
	/** Raise the user's read marker to `seq` (never lower it). */
	markRead(userId: string, room: string, seq: number): Step<void>;
	unreadCount(room: string, userId: string): Step<number>;
	/** Keep an outcome so a replay returns it (a driver stores it as JSON, or, for a send, may rebuild it from the message). */
	keepOutcome(authorId: string, room: string, type: string, clientId: string, result: ActionResult, at: string): Step<void>;
	/** End of the call: save the counters when `moved`, and add `memberId` (when given) to the room's members. */
	finish(room: string, counters: RoomCounters, moved: boolean, memberId: string | null): Step<void>;
}

/**
 * A database under the store's rules. Drivers decide how transactions run
 * (a group commit, a retry after a deadlock); a flow is a function so it can
 * be started afresh for each attempt.
 */
export interface StoreDriver {
	/** Run a flow of single statements, outside a transaction. */
	run<T>(flow: (q: StoreQueries) => Step<T>): Promise<T>;
	/** Run a flow of reads in one consistent snapshot. */
	read<T>(flow: (q: StoreQueries) => Step<T>): Promise<T>;
	/** Run one call's writes in one transaction: all of it or nothing. */
	write<T>(flow: (q: ActionQueries) => Step<T>): Promise<T>;
	/** Resolves when the database answers (readiness); rejects with why not. */
	ping(): Promise<void>;
	close(): Promise<void>;
}
