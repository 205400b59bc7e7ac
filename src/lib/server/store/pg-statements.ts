/**
 * Every SQL statement of the PostgreSQL store, run as named statements: pg
 * prepares each one once per connection and afterwards only binds values.
 * Names and texts must stay one-to-one (a name reused with another text is an
 * error on the server), hence one table.
 */
import type pg from 'pg';
import type { Attachment, Message } from '../../protocol/index.js';
import type { StoredUser } from './port.js';

export interface UserRow {
	id: string;
	name: string;
	password_hash: string;
	created_at: Date;
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
	deleted: boolean;
	inserted_at: Date;
	updated_at: Date;
	change_seq: number;
	/** The wire list (a json column: pg parses it). */
	attachments: Attachment[];
}

export interface RoomCounters {
	last_seq: number;
	last_change: number;
}

const SELECT_MESSAGES = `
	SELECT m.id, m.room, m.author_id, u.name AS author_name, m.client_id, m.body, m.seq,
	       m.version, m.deleted, m.inserted_at, m.updated_at, m.change_seq, m.attachments
	FROM messages m JOIN users u ON u.id = m.author_id`;

const UNREAD = `
	SELECT count(*) AS n FROM messages
	WHERE room = $1 AND author_id <> $2 AND NOT deleted
	  AND seq > coalesce((SELECT read_seq FROM room_members WHERE user_id = $2 AND room = $1), 0)`;

const SQL = {
	userByKey: 'SELECT id, name, password_hash, created_at FROM users WHERE name_key = $1',
	userById: 'SELECT id, name, password_hash, created_at FROM users WHERE id = $1',
	// DO NOTHING on any unique key: a racing sign-in with the same name_key (or a colliding id) inserts nothing.
	insertUser:
		'INSERT INTO users (id, name, name_key, password_hash, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING',

	revokeToken: `INSERT INTO revoked_tokens (token_id, expires_at) VALUES ($1, $2)
		ON CONFLICT (token_id) DO UPDATE SET expires_at = greatest(revoked_tokens.expires_at, excluded.expires_at)`,
	pruneRevokedTokens: 'DELETE FROM revoked_tokens WHERE expires_at <= $1',
	isTokenRevoked: 'SELECT 1 FROM revoked_tokens WHERE token_id = $1',

	ensureRoom: 'INSERT INTO rooms (slug, created_at) VALUES ($1, $2) ON CONFLICT DO NOTHING',
	roomCounters: 'SELECT last_seq, last_change FROM rooms WHERE slug = $1',
	// NO KEY UPDATE: serialises the room's writers but, unlike FOR UPDATE, lets
	// other transactions' foreign-key checks (room_members, messages) through.
	lockRoom: 'SELECT last_seq, last_change FROM rooms WHERE slug = $1 FOR NO KEY UPDATE',
	// The counters, once per call; and membership for an author who posted ($5).
	saveCounters: `WITH joined AS (
			INSERT INTO room_members (user_id, room) SELECT $4, $1 WHERE $5::boolean ON CONFLICT DO NOTHING
		)
		UPDATE rooms SET last_seq = $2, last_change = $3 WHERE slug = $1`,

	// Before the room lock: the stored outcomes of these client_ids, and one
	// message id per send in the call (sequences never block).
	prepareCall: `SELECT
		(SELECT coalesce(json_agg(json_build_object('client_id', client_id, 'result', result)), '[]')
		 FROM actions WHERE author_id = $1 AND client_id = ANY ($2::text[])) AS found,
		(SELECT coalesce(array_agg(nextval(pg_get_serial_sequence('messages', 'id'))::text), '{}')
		 FROM generate_series(1, $3::integer)) AS ids`,
	// A run of sends as one statement: the messages, the uploads they name
	// ($11/$12: one row per file) and their idempotency records. ON CONFLICT
	// DO NOTHING, then the caller compares rowCount. Foreign keys are checked
	// at the end of the statement, so the files may name messages made in it.
	insertSends: `WITH m AS (
			INSERT INTO messages (id, room, author_id, client_id, body, seq, version, deleted, inserted_at, updated_at, change_seq, attachments)
			SELECT t.id, $1, $2, t.client_id, t.body, t.seq, 1, false, t.at, t.at, t.change, t.attachments
			FROM unnest($3::bigint[], $4::text[], $5::text[], $6::bigint[], $7::timestamptz[], $8::bigint[], $10::json[])
				AS t (id, client_id, body, seq, at, change, attachments)
		), named AS (
			INSERT INTO message_attachments (message_id, upload_id)
			SELECT * FROM unnest($11::bigint[], $12::text[])
		)
		INSERT INTO actions (author_id, client_id, room, type, result, created_at)
		SELECT $2, t.client_id, $1, 'send_message', t.result, t.at
		FROM unnest($4::text[], $9::json[], $7::timestamptz[]) AS t (client_id, result, at)
		ON CONFLICT DO NOTHING`,
	// FOR KEY SHARE: the orphan sweep (FOR UPDATE SKIP LOCKED) leaves these alone until we commit.
	uploadsOf: 'SELECT id, name, type, size FROM uploads WHERE owner_id = $1 AND id = ANY ($2::text[]) FOR KEY SHARE',
	messageInRoom: `${SELECT_MESSAGES} WHERE m.id = $1 AND m.room = $2`,
	// A deletion drops the message's files too.
	updateMessage: `WITH dropped AS (DELETE FROM message_attachments WHERE message_id = $1 AND $3::boolean)
		UPDATE messages SET body = $2, deleted = $3, version = version + 1, updated_at = $4, change_seq = $5,
			attachments = CASE WHEN $3::boolean THEN '[]'::json ELSE attachments END
		WHERE id = $1`,

	// DO NOTHING, then the caller checks rowCount: 0 rows means another
	// connection stored this client_id first (see pg-actions.ts).
	insertAction: `INSERT INTO actions (author_id, client_id, room, type, result, created_at)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,

	markRead: `INSERT INTO room_members (user_id, room, read_seq) VALUES ($1, $2, $3)
		ON CONFLICT (user_id, room) DO UPDATE SET read_seq = greatest(room_members.read_seq, excluded.read_seq)`,
	unreadCount: UNREAD,
	roomsForUser: `SELECT r.slug,
			(SELECT count(*) FROM messages m
			 WHERE m.room = r.slug AND m.seq > rm.read_seq AND m.author_id <> rm.user_id AND NOT m.deleted
			) AS unread_count,
			r.last_seq
		FROM room_members rm JOIN rooms r ON r.slug = rm.room
		WHERE rm.user_id = $1
		ORDER BY r.slug`,

	snapshotPage: `${SELECT_MESSAGES} WHERE m.room = $1 AND m.seq > $2 AND m.change_seq <= $3 ORDER BY m.seq LIMIT $4`,
	changesPage: `${SELECT_MESSAGES} WHERE m.room = $1 AND m.change_seq > $2 ORDER BY m.change_seq LIMIT $3`,
	historyPage: `${SELECT_MESSAGES} WHERE m.room = $1 AND m.seq < $2 ORDER BY m.seq DESC LIMIT $3`
} as const;

export type StatementName = keyof typeof SQL;

/** Anything that runs a query: the pool, or one client inside a transaction. */
export type Queryable = Pick<pg.ClientBase, 'query'>;

/**
 * Run a named statement; resolves to pg's result (rows and rowCount).
 *
 * @example const [row] = (await run<UserRow>(pool, 'userById', [id])).rows;
 */
export function run<R extends pg.QueryResultRow = pg.QueryResultRow>(
	db: Queryable,
	name: StatementName,
	values: unknown[]
): Promise<pg.QueryResult<R>> {
	return db.query<R>({ name: `outbox_${name}`, text: SQL[name], values });
}

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
		deleted: row.deleted,
		inserted_at: row.inserted_at.toISOString(),
		updated_at: row.updated_at.toISOString(),
		attachments: row.attachments
	};
}

export function toStoredUser(row: UserRow): StoredUser {
	return { id: row.id, name: row.name, passwordHash: row.password_hash, createdAt: row.created_at.toISOString() };
}
