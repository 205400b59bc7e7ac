/**
 * The upload store port: where files and their records live. One contract
 * suite (`tests/protocol/uploads/upload-store-contract.ts`) runs against
 * both implementations: files under `DATA_DIR/uploads` with the SQLite
 * database, and chunks in PostgreSQL (every cluster node serves every file).
 *
 * A store shares its database with the chat store: messages name uploads
 * (`message_attachments`), which is how access and orphans are decided.
 */
import type { Readable } from 'node:stream';
import type { UploadType } from '../../protocol/index.js';

/** A stored file. */
export interface UploadRecord {
	/** Server-made, unguessable; the id in `GET /api/uploads/<id>` and in messages. */
	id: string;
	ownerId: string;
	/** The uploader's `X-Upload-Id`: unique per owner, what makes a retry idempotent. */
	key: string;
	name: string;
	type: UploadType;
	size: number;
	/** Hex SHA-256 of the bytes (also the ETag). */
	sha256: string;
	/** When it was stored, ms since epoch. */
	createdAt: number;
}

/** A received body, checked and written to a temporary file (see `staging.ts`). */
export interface StagedFile {
	/** The temporary file; `commit` takes it over (moves or copies it, then removes it). */
	path: string;
	size: number;
	sha256: string;
}

export type NewUpload = Omit<UploadRecord, 'size' | 'sha256'>;

/** How much an owner uploaded in the quota window. */
export interface QuotaUse {
	bytes: number;
	/** When the oldest upload in the window was made (ms), or null when none. */
	oldestAt: number | null;
}

export type CommitOutcome =
	| { status: 'created'; upload: UploadRecord }
	/** The owner has an upload under this key already: nothing new was stored. */
	| { status: 'existing'; upload: UploadRecord }
	/** Storing it would take the owner past `quota.maxBytes` in the window: nothing was stored. */
	| { status: 'over_quota'; use: QuotaUse };

export interface UploadStore {
	findByKey(ownerId: string, key: string): Promise<UploadRecord | null>;
	findById(id: string): Promise<UploadRecord | null>;
	/** Bytes `ownerId` stored at or after `sinceMs`. */
	quotaUse(ownerId: string, sinceMs: number): Promise<QuotaUse>;
	/**
	 * Keep a staged file as a new upload. One owner's commits run one at a
	 * time, each deciding on what the ones before stored: an existing key
	 * wins, then the quota (what was stored at or after `quota.sinceMs`, plus
	 * this file, must stay within `quota.maxBytes`). The bytes are durable
	 * before the record is visible. The staged file is gone afterwards,
	 * whatever the outcome.
	 */
	commit(file: StagedFile, upload: NewUpload, quota: { sinceMs: number; maxBytes: number }): Promise<CommitOutcome>;
	/** The bytes, streamed (never the whole file in memory). */
	read(upload: UploadRecord): Readable;
	/** Slugs of the rooms whose messages name this upload. */
	roomsNaming(uploadId: string): Promise<string[]>;
	/**
	 * Remove every upload made before `beforeMs` that no message names, with
	 * its bytes, and any leftovers a crash may have left (bytes without a
	 * record). Resolves to how many uploads went.
	 */
	removeOrphans(beforeMs: number): Promise<number>;
	close(): Promise<void>;
}

/** A refused upload request: the HTTP status and the contract's `reason`. */
export class UploadRefusal extends Error {
	constructor(
		readonly status: number,
		readonly reason: 'invalid' | 'rate_limited' | 'unauthorized',
		message: string,
		readonly headers: Record<string, string> = {}
	) {
		super(message);
		this.name = 'UploadRefusal';
	}
}
