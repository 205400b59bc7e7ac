/**
 * The SQLite schema, as numbered migrations. `PRAGMA user_version` holds how
 * many have run; a migration is never edited once shipped, only appended.
 */
import type { Database } from 'better-sqlite3';

export const MIGRATIONS: readonly string[] = [
	// 1: users, revoked tokens, rooms, messages, idempotency records, read markers.
	`
	CREATE TABLE users (
		id            TEXT PRIMARY KEY,
		name          TEXT NOT NULL,
		name_key      TEXT NOT NULL UNIQUE,
		password_hash TEXT NOT NULL,
		created_at    TEXT NOT NULL
	) STRICT;

	CREATE TABLE revoked_tokens (
		token_id   TEXT PRIMARY KEY,
		expires_at INTEGER NOT NULL
	) STRICT, WITHOUT ROWID;
	CREATE INDEX revoked_tokens_expires_at ON revoked_tokens (expires_at);

	-- last_seq and last_change are the per-room counters; they are bumped in
	-- the writing transaction, so seq and change numbers are gap-free.
	CREATE TABLE rooms (
		slug        TEXT PRIMARY KEY,
		created_at  TEXT NOT NULL,
		last_seq    INTEGER NOT NULL DEFAULT 0,
		last_change INTEGER NOT NULL DEFAULT 0
	) STRICT, WITHOUT ROWID;

	-- change_seq is the room change counter at this message's latest change.
	CREATE TABLE messages (
		id          INTEGER PRIMARY KEY,
		room        TEXT NOT NULL REFERENCES rooms (slug),
		author_id   TEXT NOT NULL REFERENCES users (id),
		client_id   TEXT NOT NULL,
		body        TEXT NOT NULL,
		seq         INTEGER NOT NULL,
		version     INTEGER NOT NULL,
		deleted     INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
		inserted_at TEXT NOT NULL,
		updated_at  TEXT NOT NULL,
		change_seq  INTEGER NOT NULL,
		UNIQUE (room, seq)
	) STRICT;
	CREATE UNIQUE INDEX messages_room_change_seq ON messages (room, change_seq);

	-- The first outcome of each (author, client_id), returned on every replay.
	CREATE TABLE actions (
		author_id  TEXT NOT NULL REFERENCES users (id),
		client_id  TEXT NOT NULL,
		room       TEXT NOT NULL,
		type       TEXT NOT NULL,
		result     TEXT NOT NULL,
		created_at TEXT NOT NULL,
		PRIMARY KEY (author_id, client_id)
	) STRICT, WITHOUT ROWID;

	-- A row per room a user posted in or read; read_seq is the mark_read marker.
	CREATE TABLE room_members (
		user_id  TEXT NOT NULL REFERENCES users (id),
		room     TEXT NOT NULL REFERENCES rooms (slug),
		read_seq INTEGER NOT NULL DEFAULT 0,
		PRIMARY KEY (user_id, room)
	) STRICT, WITHOUT ROWID;
	`,
	// 2: uploads (bytes on disk, see uploads/sqlite-upload-store.ts) and the files messages carry.
	`
	-- key is the uploader's X-Upload-Id; created_at is ms since epoch (quota window, orphan sweep).
	CREATE TABLE uploads (
		id         TEXT PRIMARY KEY,
		owner_id   TEXT NOT NULL REFERENCES users (id),
		key        TEXT NOT NULL,
		name       TEXT NOT NULL,
		type       TEXT NOT NULL,
		size       INTEGER NOT NULL,
		sha256     TEXT NOT NULL,
		created_at INTEGER NOT NULL,
		UNIQUE (owner_id, key)
	) STRICT;
	CREATE INDEX uploads_owner_created ON uploads (owner_id, created_at);
	CREATE INDEX uploads_created ON uploads (created_at);

	-- The wire list [{id, name, type, size}], as sent; '[]' when none (and after a deletion).
	ALTER TABLE messages ADD COLUMN attachments TEXT NOT NULL DEFAULT '[]';

	-- Which messages name which upload: access checks and the orphan sweep.
	CREATE TABLE message_attachments (
		upload_id  TEXT NOT NULL REFERENCES uploads (id),
		message_id INTEGER NOT NULL REFERENCES messages (id),
		PRIMARY KEY (upload_id, message_id)
	) STRICT, WITHOUT ROWID;
	CREATE INDEX message_attachments_message ON message_attachments (message_id);
	`,
	// 3: a sent message is its own idempotency record (no actions row per send;
	// see sqlite-statements.ts, findOutcome). Every send so far also has its
	// actions row, so no two messages share an (author, client_id) yet.
	`
	CREATE UNIQUE INDEX messages_author_client ON messages (author_id, client_id);
	`
];

/**
 * Bring the database up to the latest schema. Runs under `BEGIN IMMEDIATE`
 * and re-reads the version inside it, so connections opening the same file
 * at once migrate it exactly once.
 */
export function migrate(db: Database): void {
	db.transaction(() => {
		const current = db.pragma('user_version', { simple: true }) as number;
		if (current > MIGRATIONS.length) {
			throw new Error(
				`database schema version ${current} is newer than this code knows (${MIGRATIONS.length}); upgrade the server`
			);
		}
		for (let version = current; version < MIGRATIONS.length; version++) db.exec(MIGRATIONS[version]!);
		if (current !== MIGRATIONS.length) db.pragma(`user_version = ${MIGRATIONS.length}`);
	}).immediate();
}
