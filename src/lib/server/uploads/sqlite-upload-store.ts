/**
 * Uploads with the embedded database: each file under `dir` named by its
 * id, its record in the SQLite file the chat store uses (its own
 * connection). A file is written to a temporary name, fsynced, renamed into
 * place and the folder fsynced before its record commits, so a record
 * always has its bytes; a crash in between leaves bytes without a record,
 * which `removeOrphans` clears.
 */
import type Database from 'better-sqlite3';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { openDatabase } from '../store/sqlite-store.js';
import type { CommitOutcome, UploadRecord, UploadStore } from './port.js';
import { COLUMNS, toRecord, toUse, type UploadRow } from './rows.js';

export interface SqliteUploadStoreOptions {
	/** The chat store's database file (the records name its users and messages). */
	file: string;
	/** Folder of the files: `DATA_DIR/uploads`. */
	dir: string;
	busyTimeoutMs?: number;
}

/** File names in `dir` that are upload ids (the staging folder and anything else are left alone). */
const ID_NAME_RE = /^[a-z0-9]{16,64}$/;


/**
 * @example
 * const uploads = await createSqliteUploadStore({ file: 'data/outbox.db', dir: 'data/uploads' });
 */
export async function createSqliteUploadStore(options: SqliteUploadStoreOptions): Promise<UploadStore> {
	const { file, dir, busyTimeoutMs = 5000 } = options;
	if (typeof file !== 'string' || file === '') throw new TypeError("createSqliteUploadStore needs { file: '<database path>' }");
	if (typeof dir !== 'string' || dir === '') throw new TypeError("createSqliteUploadStore needs { dir: '<uploads folder>' }");
	await mkdir(dir, { recursive: true });
	const db = openDatabase(file, busyTimeoutMs);
	const st = statements(db);

	const commitRecord = db.transaction((record: UploadRecord, sinceMs: number, maxBytes: number): CommitOutcome => {
		const existing = st.byKey.get(record.ownerId, record.key);
		if (existing) return { status: 'existing', upload: toRecord(existing) };
		const use = toUse(st.quotaUse.get(record.ownerId, sinceMs)!);
		if (use.bytes + record.size > maxBytes) return { status: 'over_quota', use };
		st.insert.run(record.id, record.ownerId, record.key, record.name, record.type, record.size, record.sha256, record.createdAt);
		return { status: 'created', upload: record };
	});

	return {
		async findByKey(ownerId, key) {
			const row = st.byKey.get(ownerId, key);
			return row ? toRecord(row) : null;
		},
		async findById(id) {
			const row = st.byId.get(id);
			return row ? toRecord(row) : null;
		},
		async quotaUse(ownerId, sinceMs) {
			return toUse(st.quotaUse.get(ownerId, sinceMs)!);
		},
		async commit(staged, upload, quota) {
			const target = join(dir, upload.id);
			try {
				await rename(staged.path, target);
				await syncFolder(dir);
			} catch (error) {
				await rm(staged.path, { force: true });
				throw error;
			}
			let outcome: CommitOutcome;
			try {
				outcome = commitRecord.immediate({ ...upload, size: staged.size, sha256: staged.sha256 }, quota.sinceMs, quota.maxBytes);
			} catch (error) {
				await rm(target, { force: true });
				throw error;
			}
			if (outcome.status !== 'created') await rm(target, { force: true });
			return outcome;
		},
		read(upload) {
			return createReadStream(join(dir, upload.id));
		},
		async roomsNaming(uploadId) {
			return st.roomsNaming.all(uploadId);
		},
		async removeOrphans(beforeMs) {
			const ids = st.removeOrphans.all(beforeMs);
			for (const id of ids) await rm(join(dir, id), { force: true });
			// Bytes whose record never committed (a crash between rename and commit).
			for (const name of await readdir(dir)) {
				if (!ID_NAME_RE.test(name) || st.byId.get(name)) continue;
				const info = await stat(join(dir, name)).catch(() => null);
				if (info?.isFile() && info.mtimeMs < beforeMs && !st.byId.get(name)) await rm(join(dir, name), { force: true });
			}
			return ids.length;
		},
		async close() {
			if (db.open) db.close();
		}
	};
}

function statements(db: Database.Database) {
	return {
		byKey: db.prepare<[string, string], UploadRow>(`SELECT ${COLUMNS} FROM uploads WHERE owner_id = ? AND key = ?`),
		byId: db.prepare<[string], UploadRow>(`SELECT ${COLUMNS} FROM uploads WHERE id = ?`),
		quotaUse: db.prepare<[string, number], { bytes: number; oldest_at: number | null }>(
			'SELECT coalesce(sum(size), 0) AS bytes, min(created_at) AS oldest_at FROM uploads WHERE owner_id = ? AND created_at >= ?'
		),
		insert: db.prepare<[string, string, string, string, string, number, string, number]>(
			`INSERT INTO uploads (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
		),
		roomsNaming: db
			.prepare<[string], string>(
				`SELECT DISTINCT m.room FROM message_attachments a JOIN messages m ON m.id = a.message_id
				 WHERE a.upload_id = ? ORDER BY m.room`
			)
			.pluck(),
		removeOrphans: db
			.prepare<[number], string>(
				`DELETE FROM uploads
				 WHERE created_at < ? AND NOT EXISTS (SELECT 1 FROM message_attachments a WHERE a.upload_id = uploads.id)
				 RETURNING id`
			)
			.pluck()
	};
}



/** fsync a folder, so a rename into it survives a power cut. */
async function syncFolder(dir: string): Promise<void> {
	const handle = await open(dir, 'r');
	try {
		await handle.sync();
	} finally {
		await handle.close();
	}
}
