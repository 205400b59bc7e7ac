/**
 * Receive one upload body into a temporary file: counted, hashed and
 * checked against its declared type as it streams, then fsynced. Memory use
 * is one chunk at a time, whatever the file's size.
 *
 * Whatever goes wrong (a limit, a lie about the type, a client that goes
 * away or stalls), the temporary file is removed. The request itself is
 * left alone, never destroyed: its socket must stay up to carry the refusal,
 * which the caller sends with `Connection: close`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { UploadType } from '../../protocol/index.js';
import { contentCheck } from './file-types.js';
import { UploadRefusal, type StagedFile } from './port.js';

/** Names of temporary files; nothing else in the staging folder ends so. */
const STAGING_SUFFIX = '.part';

export interface StageOptions {
	/** Folder for temporary files (made when missing). */
	dir: string;
	type: UploadType;
	maxBytes: number;
	/** A client that sends nothing for this long is refused (408). */
	idleTimeoutMs: number;
	/** Told the running byte count after each chunk; may throw an `UploadRefusal` (the quota). */
	onBytes?: (received: number) => void;
}

/** The request body went away before its end. */
export class ClientGone extends Error {
	constructor() {
		super('the client went away before the upload ended');
		this.name = 'ClientGone';
	}
}

/**
 * @example
 * const staged = await stageUpload(req, { dir: 'data/uploads/.staging', type: 'image/png', maxBytes: 10 << 20, idleTimeoutMs: 30_000 });
 */
export async function stageUpload(body: Readable, options: StageOptions): Promise<StagedFile> {
	const { dir, type, maxBytes, idleTimeoutMs, onBytes } = options;
	await mkdir(dir, { recursive: true });
	const path = join(dir, randomBytes(12).toString('hex') + STAGING_SUFFIX);
	const file = await open(path, 'wx', 0o600);

	const hash = createHash('sha256');
	const check = contentCheck(type);
	let size = 0;
	// The body feeds `inlet` through pipe(), so a failed pipeline destroys the
	// inlet and unpipes (pausing) the body instead of destroying the request.
	const inlet = new PassThrough();
	let idle: NodeJS.Timeout | undefined;
	const stall = () => inlet.destroy(new UploadRefusal(408, 'invalid', `no bytes arrived for ${idleTimeoutMs / 1000} s`));
	const meter = new Transform({
		transform(chunk: Buffer, _encoding, callback) {
			try {
				size += chunk.length;
				if (size > maxBytes) throw new UploadRefusal(413, 'invalid', `a file may have at most ${maxBytes} bytes`);
				check.update(chunk);
				onBytes?.(size);
				hash.update(chunk);
				idle?.refresh();
				callback(null, chunk);
			} catch (error) {
				callback(error as Error);
			}
		},
		flush(callback) {
			try {
				if (size === 0) throw new UploadRefusal(400, 'invalid', 'the file is empty');
				check.finish();
				callback();
			} catch (error) {
				callback(error as Error);
			}
		}
	});
	const gone = () => {
		if (!body.readableEnded) inlet.destroy(new ClientGone());
	};
	body.once('close', gone);
	body.once('error', gone);
	idle = setTimeout(stall, idleTimeoutMs);

	// flush: fsync before the stream closes the file, which `file.close()` then waits for.
	const out = file.createWriteStream({ flush: true });
	let kept = false;
	try {
		body.pipe(inlet);
		await pipeline(inlet, meter, out);
		await file.close();
		kept = true;
		return { path, size, sha256: hash.digest('hex') };
	} finally {
		clearTimeout(idle);
		body.off('close', gone);
		body.off('error', gone);
		body.unpipe(inlet);
		if (!kept) {
			out.destroy();
			await file.close().catch(() => {});
			await rm(path, { force: true });
		}
	}
}

/** Remove temporary files older than `beforeMs` (left by a crash); resolves to how many. */
export async function removeStaleStaging(dir: string, beforeMs: number): Promise<number> {
	let names: string[];
	try {
		names = await readdir(dir);
	} catch {
		return 0; // no staging folder yet
	}
	let removed = 0;
	for (const name of names.filter((n) => n.endsWith(STAGING_SUFFIX))) {
		const path = join(dir, name);
		const info = await stat(path).catch(() => null);
		if (info && info.mtimeMs < beforeMs) {
			await rm(path, { force: true });
			removed++;
		}
	}
	return removed;
}
