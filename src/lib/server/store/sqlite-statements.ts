/**
 * Every SQL statement of the SQLite store, prepared once per connection.
 */
import type { Database } from 'better-sqlite3';
import type { Attachment, Message } from '../../protocol/index.js';
import type { StoredUser } from './port.js';

export interface UserRow {
	id: string;
	name: string;
	password_hash: string;
	created_at: string;
}

export interface MessageRow {
	id: number;
	room: string;
	author_id: string;
	author_name: string;
	client_id: string;
	body: string;
	seq: number;
	version: number;
	deleted: 0 | 1;
	inserted_at: string;
	updated_at: string;
	change_seq: number;
	/** JSON text of the wire list. */
	attachments: string;
}

export interface RoomCounters {
	last_seq: number;
	last_change: number;
}

// CROSS JOIN pins messages as the outer loop, so pages walk the (room, seq)
// and (room, change_seq) indexes instead of scanning users.
const SELECT_MESSAGES = `
	SELECT m.id, m.room, m.author_id, u.name AS author_name, m.client_id, m.body, m.seq,
	       m.version, m.deleted, m.inserted_at, m.updated_at, m.change_seq, m.attachments
	FROM messages m CROSS JOIN users u ON u.id = m.author_id`;

// The reply to a send, `{client_id, status: "ok", message}`, from its message row `m` (as sent) and author `u`.
const SEND_REPLY = `json_object(
	'client_id', m.client_id, 'status', 'ok', 'message', json_object(
		'id', CAST(m.id AS TEXT), 'client_id', m.client_id, 'room', m.room,
		'author', json_object('id', m.author_id, 'name', u.name), 'body', m.body,
		'seq', m.seq, 'version', m.version, 'deleted', CASE m.deleted WHEN 1 THEN json('true') ELSE json('false') END,
		'inserted_at', m.inserted_at, 'updated_at', m.updated_at, 'attachments', json(m.attachments)))`;

export function prepareStatements(db: Database) {
	return {
		userByKey: db.prepare<[string], UserRow>(
			'SELECT id, name, password_hash, created_at FROM users WHERE name_key = ?'
		),
		userById: db.prepare<[string], UserRow>(
			'SELECT id, name, password_hash, created_at FROM users WHERE id = ?'
		),
		// OR IGNORE: a racing sign-in with the same name_key inserts nothing.
		insertUser: db.prepare<[string, string, string, string, string]>(
			'INSERT OR IGNORE INTO users (id, name, name_key, password_hash, created_at) VALUES (?, ?, ?, ?, ?)'
		),

		revokeToken: db.prepare<[string, number]>(
			`INSERT INTO revoked_tokens (token_id, expires_at) VALUES (?, ?)
			 ON CONFLICT (token_id) DO UPDATE SET expires_at = max(expires_at, excluded.expires_at)`
		),
		pruneRevokedTokens: db.prepare<[number]>('DELETE FROM revoked_tokens WHERE expires_at <= ?'),
		isTokenRevoked: db
			.prepare<[string], number>('SELECT 1 FROM revoked_tokens WHERE token_id = ?')
			.pluck(),

		ensureRoom: db.prepare<[string, string]>(
			'INSERT OR IGNORE INTO rooms (slug, created_at) VALUES (?, ?)'
		),
		roomCounters: db.prepare<[string], RoomCounters>(
			'SELECT last_seq, last_change FROM rooms WHERE slug = ?'
		),
		// The call's counters, advanced in memory under the write lock and saved once.
		saveCounters: db.prepare<[number, number, string]>('UPDATE rooms SET last_seq = ?, last_change = ? WHERE slug = ?'),

		// Positional parameters: binding by name costs a lookup per parameter on this hot path.
		insertMessage: db.prepare<[room: string, authorId: string, clientId: string, body: string, seq: number, insertedAt: string, updatedAt: string, change: number, attachments: string]>(
			`INSERT INTO messages (room, author_id, client_id, body, seq, version, deleted, inserted_at, updated_at, change_seq, attachments)
			 VALUES (?, ?, ?, ?, ?, 1, 0, ?, ?, ?, ?)`
		),
		nameUpload: db.prepare<[string, number | bigint]>('INSERT INTO message_attachments (upload_id, message_id) VALUES (?, ?)'),
		dropNamedUploads: db.prepare<[number]>('DELETE FROM message_attachments WHERE message_id = ?'),
		// json_each: one statement for up to 4 ids, whatever their number.
		uploadsOf: db.prepare<[string, string], Attachment>(
			'SELECT id, name, type, size FROM uploads WHERE owner_id = ? AND id IN (SELECT value FROM json_each(?))'
		),
		messageInRoom: db.prepare<[number, string], MessageRow>(
			`${SELECT_MESSAGES} WHERE m.id = ? AND m.room = ?`
		),
		updateMessage: db.prepare<[{ id: number; body: string; deleted: 0 | 1; now: string; change: number }]>(
			`UPDATE messages SET body = @body, deleted = @deleted, version = version + 1, updated_at = @now, change_seq = @change,
			        attachments = CASE WHEN @deleted = 1 THEN '[]' ELSE attachments END
			 WHERE id = @id`
		),

		// The kept outcome of (author, client_id), as JSON text. Edits, deletions,
		// marks and refusals are rows of `actions`; a send is its message row,
		// whose reply is rebuilt while the row is still as sent (version 1). The
		// first edit or deletion of a message copies that reply into `actions`
		// first (keepSendReply), so a replay still returns the original.
		findOutcome: db
			.prepare<[string, string, string, string], string | null>(
				`SELECT coalesce(
					(SELECT result FROM actions WHERE author_id = ? AND client_id = ?),
					(SELECT ${SEND_REPLY} FROM messages m CROSS JOIN users u ON u.id = m.author_id WHERE m.author_id = ? AND m.client_id = ?))`
			)
			.pluck(),
		keepSendReply: db.prepare<[string, number]>(
			`INSERT INTO actions (author_id, client_id, room, type, result, created_at)
			 SELECT m.author_id, m.client_id, m.room, 'send_message', ${SEND_REPLY}, ?
			 FROM messages m CROSS JOIN users u ON u.id = m.author_id WHERE m.id = ? AND m.version = 1
			 ON CONFLICT (author_id, client_id) DO NOTHING`
		),
		insertAction: db.prepare<[string, string, string, string, string, string]>(
			'INSERT INTO actions (author_id, client_id, room, type, result, created_at) VALUES (?, ?, ?, ?, ?, ?)'
		),

		joinRoom: db.prepare<[string, string]>(
			'INSERT OR IGNORE INTO room_members (user_id, room) VALUES (?, ?)'
		),
		markRead: db.prepare<[string, string, number]>(
			`INSERT INTO room_members (user_id, room, read_seq) VALUES (?, ?, ?)
			 ON CONFLICT (user_id, room) DO UPDATE SET read_seq = max(read_seq, excluded.read_seq)`
		),
		unreadCount: db
			.prepare<[{ room: string; userId: string }], number>(
				`SELECT count(*) FROM messages
				 WHERE room = @room AND author_id <> @userId AND deleted = 0
				   AND seq > coalesce((SELECT read_seq FROM room_members WHERE user_id = @userId AND room = @room), 0)`
			)
			.pluck(),
		roomsForUser: db.prepare<[string], { slug: string; unread_count: number; last_seq: number }>(
			`SELECT r.slug,
			        (SELECT count(*) FROM messages m
			         WHERE m.room = r.slug AND m.seq > rm.read_seq AND m.author_id <> rm.user_id AND m.deleted = 0
			        ) AS unread_count,
			        r.last_seq
			 FROM room_members rm JOIN rooms r ON r.slug = rm.room
			 WHERE rm.user_id = ?
			 ORDER BY r.slug`
		),

		snapshotPage: db.prepare<[string, number, number, number], MessageRow>(
			`${SELECT_MESSAGES} WHERE m.room = ? AND m.seq > ? AND m.change_seq <= ? ORDER BY m.seq LIMIT ?`
		),
		changesPage: db.prepare<[string, number, number], MessageRow>(
			`${SELECT_MESSAGES} WHERE m.room = ? AND m.change_seq > ? ORDER BY m.change_seq LIMIT ?`
		),
		historyPage: db.prepare<[string, number, number], MessageRow>(
			`${SELECT_MESSAGES} WHERE m.room = ? AND m.seq < ? ORDER BY m.seq DESC LIMIT ?`
		)
	};
}

export type Statements = ReturnType<typeof prepareStatements>;

/** A message row as the wire `message`, with exactly the contract's fields. */
export function toMessage(row: MessageRow): Message {
	return {
		id: String(row.id),
		client_id: row.client_id,
		room: row.room,
		author: { id: row.author_id, name: row.author_name },
		body: row.body,
		seq: row.seq,
		version: row.version,
		deleted: row.deleted === 1,
		inserted_at: row.inserted_at,
		updated_at: row.updated_at,
		attachments: row.attachments === '[]' ? [] : (JSON.parse(row.attachments) as Attachment[])
	};
}

export function toStoredUser(row: UserRow): StoredUser {
	return { id: row.id, name: row.name, passwordHash: row.password_hash, createdAt: row.created_at };
}
