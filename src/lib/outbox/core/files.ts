/**
 * Files carried by a queued action (pure). An action may carry `Blob`s: they
 * are stored inside its queue item (so they are written in the same storage
 * write as the item, and removed with it when it is confirmed or discarded),
 * uploaded one by one when the item's turn comes, and the action then goes
 * out naming the uploads (`wireUploads`).
 *
 * Upload ids are derived from the item: `<item id>.<index>`, so a retry, a
 * reload or the service worker's flush uploads the same file under the same
 * id, and an idempotent server (`X-Upload-Id`) stores it once. Once the
 * server answered, the item records the upload (`fileUploaded`), so a reload
 * does not send the bytes again.
 */
import type { Failure, QueueItem } from './queue-item.js';

/** The most files one action may carry. */
export const MAX_FILES_PER_ITEM = 16;

/** What the server keeps of an uploaded file (and what a message names). */
export interface UploadedFile {
	id: string;
	name: string;
	type: string;
	size: number;
}

/** One file of a queued item: the local bytes, and the server's copy once uploaded. */
export interface ItemFile {
	/** `<item id>.<index>`: the `X-Upload-Id` it goes under. */
	readonly uploadId: string;
	readonly name: string;
	/** The MIME type (`application/octet-stream` when the Blob had none). */
	readonly type: string;
	readonly size: number;
	readonly blob: Blob;
	/** Set once the server stored it. */
	readonly upload: UploadedFile | null;
}

/** How an upload ended, as an uploader reports it (never a rejection). */
export type UploadResult =
	| { kind: 'ok'; upload: UploadedFile }
	/** The server answered with an error status; `reason` is its `{reason}` (or one from the status). */
	| { kind: 'refused'; status: number; reason: string; message?: string }
	/** No answer: offline, connection cut, timeout. Retried. */
	| { kind: 'network'; message?: string };

/** Progress of one file being uploaded. */
export interface UploadProgress {
	loaded: number;
	total: number;
}

/** The upload id of file `index` of item `itemId`. */
export function uploadIdOf(itemId: string, index: number): string {
	return `${itemId}.${index}`;
}

/**
 * The files of a new item, checked: each a `Blob` (a `File` keeps its name),
 * at most `MAX_FILES_PER_ITEM`. Throws `TypeError` on misuse.
 */
export function itemFiles(itemId: string, files: readonly Blob[]): ItemFile[] {
	if (!Array.isArray(files)) throw new TypeError('add(..., { files }): files must be an array of Blob or File');
	if (files.length > MAX_FILES_PER_ITEM) throw new TypeError(`add(..., { files }): at most ${MAX_FILES_PER_ITEM} files per action, got ${files.length}`);
	return files.map((blob, index) => {
		if (typeof Blob === 'undefined' || !(blob instanceof Blob)) throw new TypeError(`add(..., { files }): file ${index} is not a Blob or File`);
		const named = (blob as Blob & { name?: unknown }).name;
		return {
			uploadId: uploadIdOf(itemId, index),
			name: typeof named === 'string' && named !== '' ? named : `file-${index + 1}`,
			type: blob.type || 'application/octet-stream',
			size: blob.size,
			blob,
			upload: null
		};
	});
}

/** Indexes of the item's files not uploaded yet, in order. */
export function pendingUploads(item: QueueItem): number[] {
	const out: number[] = [];
	(item.files ?? []).forEach((file, index) => {
		if (file.upload === null) out.push(index);
	});
	return out;
}

/** Whether the item still has a file to upload before it can be pushed. */
export function needsUpload(item: QueueItem): boolean {
	return (item.files ?? []).some((file) => file.upload === null);
}

/** The item with file `index` recorded as uploaded (a new object; unchanged if the index is out of range). */
export function withUpload(item: QueueItem, index: number, upload: UploadedFile): QueueItem {
	const files = item.files;
	if (!files || index < 0 || index >= files.length) return item;
	return { ...item, files: files.map((file, i) => (i === index ? { ...file, upload } : file)) };
}

/** The uploads the action names on the wire, in file order (every file must be uploaded). */
export function wireUploads(item: QueueItem): UploadedFile[] {
	return (item.files ?? []).map((file) => {
		if (file.upload === null) throw new Error(`item ${item.id}: file ${file.uploadId} is not uploaded yet`);
		return file.upload;
	});
}

/**
 * A failed upload as the failure of its item: a refusal is an error reply
 * with the server's reason (the classifier decides: `invalid` fails the item,
 * `rate_limited` is retried with backoff, `unauthorized` asks to sign in); no
 * answer is a `timeout` (charged, retried with backoff).
 */
export function uploadFailure(file: Pick<ItemFile, 'name' | 'size'>, result: Exclude<UploadResult, { kind: 'ok' }>): Failure {
	if (result.kind === 'network') return { kind: 'timeout' };
	return {
		kind: 'error',
		reason: result.reason,
		message: result.message ?? uploadRefusalMessage(file, result.status),
		detail: { file: file.name, status: result.status, reason: result.reason }
	};
}

/** An item whose files cannot be sent at all (no uploader, or the stored bytes are gone): it fails for good. */
export function unsendableFiles(why: 'no-uploader' | 'lost-copy', file: Pick<ItemFile, 'name'>): Failure {
	const message =
		why === 'no-uploader' ? 'this action carries files but no uploader is configured (deps.uploader)' : `the local copy of "${file.name}" is gone; attach it again`;
	return { kind: 'error', verdict: 'fail', reason: 'invalid', message };
}

/** A sentence for a refused upload, from its HTTP status. */
export function uploadRefusalMessage(file: Pick<ItemFile, 'name' | 'size'>, status: number): string {
	if (status === 413) return `"${file.name}" is too large to upload`;
	if (status === 415) return `"${file.name}" is not a file type the server accepts (or its contents do not match its type)`;
	if (status === 429) return `the upload quota is used up; "${file.name}" will be tried again later`;
	if (status === 401) return 'the server refused the session; sign in again';
	return `the server refused "${file.name}" (HTTP ${status})`;
}
