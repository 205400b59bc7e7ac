/**
 * The upload step of sending an item with files, shared by both drivers of
 * the queue (the page's send loop and the service worker's flush): upload
 * each file not uploaded yet, in order, under its derived id, record each
 * upload as it lands, and say how it ended. Deciding what a failure means is
 * the core's (`uploadFailure`, then the reducer's retry policy).
 */
import { pendingUploads, unsendableFiles, uploadFailure, type UploadedFile, type UploadProgress } from '../core/files.js';
import type { Failure, QueueItem } from '../core/queue-item.js';
import type { Uploader } from '../ports.js';

export interface UploadHooks {
	/** False once the caller stopped caring (user switched, closed): nothing more is uploaded or recorded. */
	alive(): boolean;
	/** File `index` is under way. */
	progress?(index: number, progress: UploadProgress): void;
	/** File `index` was stored by the server: record it on the item (and persist it). */
	uploaded(index: number, upload: UploadedFile): void | Promise<void>;
}

/** How the upload step ended: every file is on the server, one failed, or the caller stopped. */
export type UploadOutcome = { kind: 'done' } | { kind: 'failed'; failure: Failure } | { kind: 'stopped' };

/**
 * Upload the item's files that are not on the server yet.
 *
 * @example
 * const outcome = await uploadItemFiles(item, uploader, { alive: () => true, uploaded: (i, u) => record(i, u) });
 * if (outcome.kind === 'done') push(itemWithUploads);
 */
export async function uploadItemFiles(item: QueueItem, uploader: Uploader | undefined, hooks: UploadHooks): Promise<UploadOutcome> {
	const files = item.files ?? [];
	for (const index of pendingUploads(item)) {
		const file = files[index]!;
		if (!uploader) return { kind: 'failed', failure: unsendableFiles('no-uploader', file) };
		// Stored by a driver that lost the bytes: nothing can send it.
		if (!(file.blob instanceof Blob)) return { kind: 'failed', failure: unsendableFiles('lost-copy', file) };
		hooks.progress?.(index, { loaded: 0, total: file.size });
		let result;
		try {
			result = await uploader.upload({ uploadId: file.uploadId, blob: file.blob, name: file.name, type: file.type }, (progress) => {
				if (hooks.alive()) hooks.progress?.(index, progress);
			});
		} catch (error) {
			result = { kind: 'network' as const, message: error instanceof Error ? error.message : String(error) };
		}
		if (!hooks.alive()) return { kind: 'stopped' };
		if (result.kind !== 'ok') return { kind: 'failed', failure: uploadFailure(file, result) };
		await hooks.uploaded(index, result.upload);
		if (!hooks.alive()) return { kind: 'stopped' };
	}
	return { kind: 'done' };
}
