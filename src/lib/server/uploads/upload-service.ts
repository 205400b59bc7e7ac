/**
 * Attachments on the server: receive a file (idempotent by `X-Upload-Id`,
 * within the size, type and quota limits), decide who may read it, and
 * sweep away files no message named within a day. The HTTP layer
 * (`http/uploads.ts`) only maps requests and answers to these calls.
 *
 * Same `X-Upload-Id` again, the choices made where the contract is silent:
 * - the same bytes (by SHA-256): the first upload, `201` again as the first
 *   reply was, nothing stored and nothing counted against the quota;
 * - other bytes: refused, `409 {reason: "invalid"}`: an upload id names one
 *   file for good, so a retry can never swap a file under a sent message.
 */
import { randomId } from '../store/ids.js';
import { clientIdSchema, LIMITS, type User } from '../../protocol/index.js';
import type { Readable } from 'node:stream';
import { rm } from 'node:fs/promises';
import type { Logger } from '../logger.js';
import { roomAccess } from '../chat/access.js';
import { displayName } from './file-name.js';
import { uploadTypeOf } from './file-types.js';
import { UploadRefusal, type QuotaUse, type StagedFile, type UploadRecord, type UploadStore } from './port.js';
import { removeStaleStaging, stageUpload } from './staging.js';

export interface UploadServiceOptions {
	store: UploadStore;
	/** Folder for bodies still arriving (on the same file system as a disk store's files). */
	stagingDir: string;
	logger: Pick<Logger, 'info' | 'error'>;
	/** Clock for the quota window and the orphan age (tests). */
	now?: () => number;
	/** Bytes of one file (default 10 MiB). */
	maxBytes?: number;
	/** Bytes per user in any rolling `quotaWindowMs` (default 100 MiB in 24 h). */
	quotaBytes?: number;
	quotaWindowMs?: number;
	/** Uploads no message names are removed once this old (default 24 h). */
	orphanAfterMs?: number;
	/** A body that sends nothing for this long is refused with 408 (default 30 s). */
	idleTimeoutMs?: number;
	/** How often the orphan sweep runs (default 1 h); 0: only when `sweep()` is called. */
	sweepIntervalMs?: number;
}

/** What the HTTP layer read from a `POST /api/uploads`. */
export interface IncomingUpload {
	uploadId: string | undefined;
	contentType: string | undefined;
	fileName: string | undefined;
	/** `Content-Length`, or null when the body is chunked. */
	contentLength: number | null;
	body: Readable;
}

/** Server-made upload ids: 24 base36 characters (~124 bits), so ids cannot be guessed. */
const UPLOAD_ID_LENGTH = 24;
const UPLOAD_ID_RE = /^[a-z0-9]{24}$/;
/** Temporary files older than this belong to no live request (Node ends a request after 5 min). */
const STALE_STAGING_MS = 60 * 60 * 1000;

const positive = (name: string, value: number, zeroOk = false) => {
	if (!Number.isSafeInteger(value) || value < (zeroOk ? 0 : 1)) {
		throw new TypeError(`UploadService: ${name} must be an integer ≥ ${zeroOk ? 0 : 1}, got ${value}`);
	}
	return value;
};

export class UploadService {
	/** Where the files live (the contract suite and tests read it directly). */
	readonly store: UploadStore;
	readonly #store: UploadStore;
	readonly #stagingDir: string;
	readonly #logger: UploadServiceOptions['logger'];
	readonly #now: () => number;
	readonly limits: { maxBytes: number; quotaBytes: number; quotaWindowMs: number; orphanAfterMs: number; idleTimeoutMs: number };
	readonly #sweepIntervalMs: number;
	#timer: NodeJS.Timeout | undefined;
	#sweeping: Promise<number> | undefined;

	constructor(options: UploadServiceOptions) {
		if (!options?.store) throw new TypeError('UploadService needs { store } (an UploadStore)');
		if (typeof options.stagingDir !== 'string' || options.stagingDir === '') {
			throw new TypeError("UploadService needs { stagingDir: '<folder for bodies in flight>' }");
		}
		this.store = this.#store = options.store;
		this.#stagingDir = options.stagingDir;
		this.#logger = options.logger;
		this.#now = options.now ?? Date.now;
		this.limits = {
			maxBytes: positive('maxBytes', options.maxBytes ?? LIMITS.uploadMaxBytes),
			quotaBytes: positive('quotaBytes', options.quotaBytes ?? LIMITS.uploadQuotaBytes),
			quotaWindowMs: positive('quotaWindowMs', options.quotaWindowMs ?? LIMITS.uploadQuotaWindowMs),
			orphanAfterMs: positive('orphanAfterMs', options.orphanAfterMs ?? 24 * 60 * 60 * 1000),
			idleTimeoutMs: positive('idleTimeoutMs', options.idleTimeoutMs ?? 30_000)
		};
		this.#sweepIntervalMs = positive('sweepIntervalMs', options.sweepIntervalMs ?? 60 * 60 * 1000, true);
	}

	/** Start the periodic orphan sweep (does nothing when the interval is 0). */
	start(): void {
		if (this.#sweepIntervalMs === 0 || this.#timer) return;
		this.#timer = setInterval(() => void this.sweep().catch(() => {}), this.#sweepIntervalMs);
		this.#timer.unref();
	}

	/**
	 * Store one file for `user`, or throw an `UploadRefusal`: 400 (a bad
	 * header), 408 (stalled), 409 (this X-Upload-Id holds other bytes), 413
	 * (too big), 415 (type not taken, or bytes not of that type), 429 (quota).
	 */
	async receive(user: User, incoming: IncomingUpload): Promise<UploadRecord> {
		const key = clientIdSchema.safeParse(incoming.uploadId);
		if (!key.success) {
			throw new UploadRefusal(400, 'invalid', 'X-Upload-Id must be 1–64 visible ASCII characters, unique per upload (as a client_id)');
		}
		const type = uploadTypeOf(incoming.contentType);
		const { maxBytes, quotaBytes } = this.limits;
		const declared = incoming.contentLength;
		if (declared !== null && declared > maxBytes) throw new UploadRefusal(413, 'invalid', `a file may have at most ${maxBytes} bytes`);
		const name = displayName(incoming.fileName, type);

		const existing = await this.#store.findByKey(user.id, key.data);
		if (existing && declared !== null && declared !== existing.size) throw differentBytes(key.data);
		const since = this.#now() - this.limits.quotaWindowMs;
		let use: QuotaUse | undefined;
		if (!existing) {
			use = await this.#store.quotaUse(user.id, since);
			if (use.bytes + (declared ?? 0) > quotaBytes) throw this.#overQuota(use);
		}
		const staged = await stageUpload(incoming.body, {
			dir: this.#stagingDir,
			type,
			maxBytes,
			idleTimeoutMs: this.limits.idleTimeoutMs,
			onBytes: use && ((received) => {
				if (use.bytes + received > quotaBytes) throw this.#overQuota(use);
			})
		});
		if (existing) {
			await rm(staged.path, { force: true });
			return sameOrRefuse(existing, staged, key.data);
		}
		const record = { id: randomId(UPLOAD_ID_LENGTH), ownerId: user.id, key: key.data, name, type, createdAt: this.#now() };
		const outcome = await this.#store.commit(staged, record, { sinceMs: since, maxBytes: quotaBytes });
		if (outcome.status === 'over_quota') throw this.#overQuota(outcome.use);
		if (outcome.status === 'existing') return sameOrRefuse(outcome.upload, staged, key.data);
		this.#logger.info({ user: user.id, upload: record.id, type, size: staged.size }, 'upload stored');
		return outcome.upload;
	}

	/**
	 * The upload if `user` may read it, else null: its uploader, and anyone
	 * who may join a room where a message names it (any signed-in user for a
	 * public room, the two members for a dm). Unknown and forbidden look alike.
	 */
	async findReadable(user: User, id: string): Promise<UploadRecord | null> {
		if (!UPLOAD_ID_RE.test(id)) return null;
		const upload = await this.#store.findById(id);
		if (!upload) return null;
		if (upload.ownerId === user.id) return upload;
		const rooms = await this.#store.roomsNaming(id);
		return rooms.some((slug) => roomAccess(slug, user.id) === 'ok') ? upload : null;
	}

	/** The bytes of an upload, streamed. */
	read(upload: UploadRecord): Readable {
		return this.#store.read(upload);
	}

	/** Remove uploads no message names after `orphanAfterMs`, and stale temporary files; resolves to how many uploads went. */
	sweep(): Promise<number> {
		this.#sweeping ??= (async () => {
			try {
				const removed = await this.#store.removeOrphans(this.#now() - this.limits.orphanAfterMs);
				await removeStaleStaging(this.#stagingDir, Date.now() - STALE_STAGING_MS);
				if (removed > 0) this.#logger.info({ removed }, 'orphan uploads removed');
				return removed;
			} catch (error) {
				this.#logger.error({ err: error }, 'orphan upload sweep failed');
				throw error;
			} finally {
				this.#sweeping = undefined;
			}
		})();
		return this.#sweeping;
	}

	async close(): Promise<void> {
		clearInterval(this.#timer);
		this.#timer = undefined;
		await this.#sweeping?.catch(() => {});
		await this.#store.close();
	}

	#overQuota(use: QuotaUse): UploadRefusal {
		const { quotaBytes, quotaWindowMs } = this.limits;
		// Room frees up when the oldest upload in the window leaves it.
		const waitMs = use.oldestAt === null ? quotaWindowMs : use.oldestAt + quotaWindowMs - this.#now();
		return new UploadRefusal(429, 'rate_limited', `at most ${quotaBytes} bytes of uploads per user in any ${quotaWindowMs / 3_600_000} h`, {
			'retry-after': String(Math.max(1, Math.ceil(waitMs / 1000)))
		});
	}
}

function sameOrRefuse(existing: UploadRecord, staged: StagedFile, key: string): UploadRecord {
	if (staged.sha256 !== existing.sha256) throw differentBytes(key);
	return existing;
}

function differentBytes(key: string): UploadRefusal {
	return new UploadRefusal(409, 'invalid', `X-Upload-Id ${JSON.stringify(key)} already names a different file; choose a new id for a new file`);
}
