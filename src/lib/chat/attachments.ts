/**
 * The chat's files: what a message may carry (checked before anything is
 * queued, with a sentence the user can act on), how a queued send names its
 * files until they are uploaded, and what each file of a view row shows
 * (status, progress, where its bytes are: the local copy until the server's
 * is there).
 */
import type { UploadedFile, UploadsInFlight } from '../outbox/index.js';
import { isImageType, LIMITS, UPLOAD_TYPES, UPLOADS_PATH } from '../protocol/events.js';

export { isImageType };
import type { ViewMessage } from './view.js';

/** A file's status, as `data-status` shows it. */
export type AttachmentStatus = 'pending' | 'uploading' | 'sent' | 'failed';

/** One file of a message row. */
export interface ViewAttachment {
	/** Stable per row and file: `<row key>/<index>`. */
	key: string;
	name: string;
	type: string;
	size: number;
	status: AttachmentStatus;
	/** Bytes sent while uploading (`total` known), else null. */
	progress: { loaded: number; total: number } | null;
	/** The server's copy (`/api/uploads/<id>`), once there is one. */
	url: string | null;
	/** The local copy, while the message is not confirmed (show it through an object URL). */
	blob: Blob | null;
	/** An image the browser can show as a thumbnail. */
	image: boolean;
}

const ACCEPTED: ReadonlySet<string> = new Set(UPLOAD_TYPES);

/** The `accept` of a file input: the types the server takes. */
export const ACCEPT_ATTRIBUTE = UPLOAD_TYPES.join(',');

/** Where the server serves an upload. */
export function uploadUrl(id: string): string {
	return `${UPLOADS_PATH}/${encodeURIComponent(id)}`;
}


/** Human size: `12 B`, `3.4 KB`, `1.2 MB`. */
export function formatSize(bytes: number): string {
	if (bytes < 1024) return `${bytes} B`;
	if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
	return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/**
 * Why these files cannot go with one message, or null when they can: at most
 * `LIMITS.attachmentsMax`, each at most `LIMITS.uploadMaxBytes`, of a type the
 * server takes. (Whether the bytes match the type, the server checks.)
 */
export function checkFiles(files: readonly Blob[]): string | null {
	if (files.length > LIMITS.attachmentsMax) return `A message can carry at most ${LIMITS.attachmentsMax} files.`;
	for (const [index, file] of files.entries()) {
		const name = fileName(file, index);
		if (file.size > LIMITS.uploadMaxBytes) return `"${name}" is ${formatSize(file.size)}: a file may be at most ${formatSize(LIMITS.uploadMaxBytes)}.`;
		if (!ACCEPTED.has(file.type)) return `"${name}" is not a type that can be sent (images, PDF and plain text can).`;
		if (file.size === 0) return `"${name}" is empty.`;
	}
	return null;
}

function fileName(file: Blob, index: number): string {
	const named = (file as Blob & { name?: unknown }).name;
	return typeof named === 'string' && named !== '' ? named : `file ${index + 1}`;
}

/**
 * The `attachments` a queued send carries until its files are uploaded: one
 * placeholder per file (`local-<index>`), so the payload passes the same
 * schema the server applies (at most 4; the body may be empty with a file).
 * `sendMessageWire` puts the real upload ids in their place when it goes out.
 */
export function localAttachments(count: number): string[] {
	return Array.from({ length: count }, (_, index) => `local-${index}`);
}

/** The wire payload of a queued send: its uploads named instead of the placeholders. */
export function sendMessageWire(payload: Readonly<Record<string, unknown>>, uploads: readonly UploadedFile[]): Record<string, unknown> {
	if (uploads.length === 0) return { ...payload };
	return { ...payload, attachments: uploads.map((upload) => upload.id) };
}

/**
 * The files of a row: the confirmed message's (served by the server), or
 * the queued send's (local bytes; `uploading` with progress while this tab
 * uploads one, `sent` once the server has it, `failed` when the send failed).
 */
export function attachmentsOf(row: ViewMessage, uploads: UploadsInFlight = {}): ViewAttachment[] {
	if (row.message) {
		const local = row.item?.files;
		return (row.message.attachments ?? []).map((attachment, index) => ({
			key: `${row.key}/${index}`,
			name: attachment.name,
			type: attachment.type,
			size: attachment.size,
			status: 'sent',
			progress: null,
			url: uploadUrl(attachment.id),
			blob: local?.[index]?.blob ?? null,
			image: isImageType(attachment.type)
		}));
	}
	const item = row.item;
	if (!item?.files) return [];
	const inFlight = uploads[item.id] ?? {};
	return item.files.map((file, index) => {
		const progress = inFlight[index] ?? null;
		const status: AttachmentStatus = file.upload ? 'sent' : row.status === 'failed' ? 'failed' : progress ? 'uploading' : 'pending';
		return {
			key: `${row.key}/${index}`,
			name: file.name,
			type: file.type,
			size: file.size,
			status,
			progress: status === 'uploading' ? progress : null,
			url: file.upload ? uploadUrl(file.upload.id) : null,
			blob: file.blob instanceof Blob ? file.blob : null,
			image: isImageType(file.type)
		};
	});
}
