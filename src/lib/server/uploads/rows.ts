/**
 * The `uploads` table as both upload stores read it: its columns, a row, and
 * the record and quota use the upload port speaks in.
 */
import type { QuotaUse, UploadRecord } from './port.js';

export interface UploadRow {
	id: string;
	owner_id: string;
	key: string;
	name: string;
	type: string;
	size: number;
	sha256: string;
	created_at: number;
}

/** Every column, in the order of `UploadRow` (and of an INSERT's values). */
export const COLUMNS = 'id, owner_id, key, name, type, size, sha256, created_at';

export function toRecord(row: UploadRow): UploadRecord {
	return {
		id: row.id,
		ownerId: row.owner_id,
		key: row.key,
		name: row.name,
		type: row.type as UploadRecord['type'],
		size: row.size,
		sha256: row.sha256,
		createdAt: row.created_at
	};
}

/** A quota query's row (`bytes`, `oldest_at`); none reads as nothing used. */
export function toUse(row: { bytes: number; oldest_at: number | null } | undefined): QuotaUse {
	return { bytes: row?.bytes ?? 0, oldestAt: row?.oldest_at ?? null };
}
