/**
 * Uploads in PostgreSQL, so every node of a cluster serves every file: the
 * record in `uploads`, the bytes in `upload_chunks` (256 KiB `bytea` rows),
 * written in one transaction and read back one chunk per query, so neither
 * direction holds more than a chunk in memory.
 */
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { Logger } from '../logger.js';
import { inTransaction, type PgConnectionOptions } from '../store/pg-connection.js';
import { openMigratedPool } from '../store/pg-migrations.js';
import type { CommitOutcome, UploadRecord, UploadStore } from './port.js';
import { COLUMNS, toRecord, toUse, type UploadRow } from './rows.js';

export interface PgUploadStoreOptions extends PgConnectionOptions {
	/** Most connections (default 4): uploads should not starve the chat store's pool. */
	poolSize?: number;
	logger?: Pick<Logger, 'error'>;
}

/** Bytes per `upload_chunks` row. */
export const CHUNK_BYTES = 256 * 1024;

const BY_KEY = `SELECT ${COLUMNS} FROM uploads WHERE owner_id = $1 AND key = $2`;
const QUOTA_USE =
	'SELECT coalesce(sum(size), 0)::bigint AS bytes, min(created_at) AS oldest_at FROM uploads WHERE owner_id = $1 AND created_at >= $2';

/**
 * @example
 * const uploads = await createPgUploadStore({ connectionString: process.env.DATABASE_URL!, schema: 'outbox' });
 */
export async function createPgUploadStore(options: PgUploadStoreOptions): Promise<UploadStore> {
	const { pool } = await openMigratedPool('createPgUploadStore', options, 'uploads', 4);

	const one = async (text: string, values: unknown[]) => (await pool.query<UploadRow>(text, values)).rows[0];

	function commitRecord(record: UploadRecord, stagedPath: string, quota: { sinceMs: number; maxBytes: number }): Promise<CommitOutcome> {
		// A found key or a full quota ends the transaction having written nothing (its COMMIT releases the lock).
		return inTransaction(pool, 'BEGIN', async (client): Promise<CommitOutcome> => {
			// One owner's commits in turn, on every node: the key and quota checks below see each other.
			await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`outbox.upload.${record.ownerId}`]);
			const existing = (await client.query<UploadRow>(BY_KEY, [record.ownerId, record.key])).rows[0];
			if (existing) return { status: 'existing', upload: toRecord(existing) };
			const use = toUse((await client.query(QUOTA_USE, [record.ownerId, quota.sinceMs])).rows[0]);
			if (use.bytes + record.size > quota.maxBytes) return { status: 'over_quota', use };
			await client.query(`INSERT INTO uploads (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, [
				record.id,
				record.ownerId,
				record.key,
				record.name,
				record.type,
				record.size,
				record.sha256,
				record.createdAt
			]);
			let n = 0;
			for await (const chunk of createReadStream(stagedPath, { highWaterMark: CHUNK_BYTES })) {
				await client.query('INSERT INTO upload_chunks (upload_id, n, data) VALUES ($1, $2, $3)', [record.id, n++, chunk]);
			}
			return { status: 'created', upload: record };
		});
	}

	return {
		async findByKey(ownerId, key) {
			const row = await one(BY_KEY, [ownerId, key]);
			return row ? toRecord(row) : null;
		},
		async findById(id) {
			const row = await one(`SELECT ${COLUMNS} FROM uploads WHERE id = $1`, [id]);
			return row ? toRecord(row) : null;
		},
		async quotaUse(ownerId, sinceMs) {
			return toUse((await pool.query(QUOTA_USE, [ownerId, sinceMs])).rows[0]);
		},
		async commit(staged, upload, quota) {
			try {
				return await commitRecord({ ...upload, size: staged.size, sha256: staged.sha256 }, staged.path, quota);
			} finally {
				await rm(staged.path, { force: true });
			}
		},
		read(upload) {
			const chunks = Math.ceil(upload.size / CHUNK_BYTES);
			let n = 0;
			return new Readable({
				highWaterMark: 1, // one chunk ahead at most
				objectMode: false,
				read() {
					if (n >= chunks) return void this.push(null);
					pool
						.query<{ data: Buffer }>('SELECT data FROM upload_chunks WHERE upload_id = $1 AND n = $2', [upload.id, n++])
						.then(({ rows }) => {
							if (!rows[0]) throw new Error(`upload ${upload.id} lost chunk ${n - 1}`);
							this.push(rows[0].data);
						})
						.catch((error: Error) => this.destroy(error));
				}
			});
		},
		async roomsNaming(uploadId) {
			const { rows } = await pool.query<{ room: string }>(
				`SELECT DISTINCT m.room FROM message_attachments a JOIN messages m ON m.id = a.message_id
				 WHERE a.upload_id = $1 ORDER BY m.room`,
				[uploadId]
			);
			return rows.map((row) => row.room);
		},
		async removeOrphans(beforeMs) {
			// SKIP LOCKED: an upload a send is naming right now (it holds FOR KEY SHARE) is left for the next sweep.
			const { rowCount } = await pool.query(
				`DELETE FROM uploads WHERE id IN (
					SELECT id FROM uploads u
					WHERE created_at < $1 AND NOT EXISTS (SELECT 1 FROM message_attachments a WHERE a.upload_id = u.id)
					FOR UPDATE SKIP LOCKED)`,
				[beforeMs]
			);
			return rowCount ?? 0;
		},
		async close() {
			if (!pool.ended) await pool.end();
		}
	};
}


