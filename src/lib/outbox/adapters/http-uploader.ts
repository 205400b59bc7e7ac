/**
 * The default `Uploader`: `POST <url>` with the file as the raw body,
 * `Content-Type` its type, `X-Upload-Id` (derived from the queue item, so a
 * second try is the same upload), `X-File-Name` (URI-encoded) and, when a
 * token is given, `Authorization: Bearer <token>` (else the session cookie
 * goes, same-origin). The server answers `201 {upload: {id, name, type,
 * size}}`, or an error status with `{reason, message?}`.
 *
 * In a page it uses `XMLHttpRequest`, which reports upload progress; where
 * there is none (a service worker, Node) it uses `fetch` (progress only at
 * 0 and at the end).
 */
import type { UploadedFile, UploadResult } from '../core/files.js';
import type { Uploader } from '../ports.js';

export interface HttpUploaderOptions {
	/** The upload endpoint (default `/api/uploads`). */
	url?: string;
	/** The Bearer token to send (null or missing: rely on the cookie). */
	token?: () => string | null | undefined;
	/** `xhr` (progress), `fetch`, or `auto` (default: XHR where it exists). */
	via?: 'xhr' | 'fetch' | 'auto';
	/** The fetch to use (default: the global one, read at each call). */
	fetch?: typeof fetch;
	/** Give up on one upload after this long (ms, default 120,000): a network failure, retried. */
	timeoutMs?: number;
}

/**
 * @example
 * const uploader = createHttpUploader({ token: () => session.token });
 * const outbox = createBrowserOutbox({ ..., uploader });
 */
export function createHttpUploader(options: HttpUploaderOptions = {}): Uploader {
	const url = options.url ?? '/api/uploads';
	const timeoutMs = options.timeoutMs ?? 120_000;
	const via = options.via ?? 'auto';
	if (!['xhr', 'fetch', 'auto'].includes(via)) throw new TypeError(`createHttpUploader: via must be 'xhr', 'fetch' or 'auto', not ${String(via)}`);
	const useXhr = () => via === 'xhr' || (via === 'auto' && typeof XMLHttpRequest === 'function');
	const headersOf = (request: { uploadId: string; name: string; type: string }): Record<string, string> => {
		const token = options.token?.();
		return {
			'content-type': request.type,
			'x-upload-id': request.uploadId,
			'x-file-name': encodeURIComponent(request.name),
			accept: 'application/json',
			...(token ? { authorization: `Bearer ${token}` } : {})
		};
	};
	return {
		upload(request, onProgress) {
			const headers = headersOf(request);
			if (useXhr()) {
				return new Promise<UploadResult>((resolve) => {
					const xhr = new XMLHttpRequest();
					xhr.open('POST', url);
					xhr.timeout = timeoutMs;
					xhr.withCredentials = false;
					for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
					xhr.upload.onprogress = (event) => onProgress?.({ loaded: event.loaded, total: event.lengthComputable ? event.total : request.blob.size });
					xhr.onload = () => resolve(resultOf(xhr.status, parse(xhr.responseText)));
					xhr.onerror = () => resolve({ kind: 'network', message: 'the upload was cut off' });
					xhr.ontimeout = () => resolve({ kind: 'network', message: `the upload took longer than ${timeoutMs} ms` });
					xhr.onabort = () => resolve({ kind: 'network', message: 'the upload was aborted' });
					xhr.send(request.blob);
				});
			}
			const doFetch = options.fetch ?? globalThis.fetch;
			const controller = new AbortController();
			const timer = setTimeout(() => controller.abort(), timeoutMs);
			return doFetch(url, { method: 'POST', headers, body: request.blob, credentials: 'same-origin', cache: 'no-store', signal: controller.signal })
				.then(async (response) => {
					const body = parse(await response.text().catch(() => ''));
					if (response.ok) onProgress?.({ loaded: request.blob.size, total: request.blob.size });
					return resultOf(response.status, body);
				})
				.catch((error: unknown): UploadResult => ({ kind: 'network', message: error instanceof Error ? error.message : String(error) }))
				.finally(() => clearTimeout(timer));
		}
	};
}

function parse(text: string): unknown {
	try {
		return text ? (JSON.parse(text) as unknown) : null;
	} catch {
		return null;
	}
}

/** An HTTP answer as an upload result: `2xx {upload}` is ok; an error status carries its `{reason}` (or one from the status). */
export function resultOf(status: number, body: unknown): UploadResult {
	if (status >= 200 && status < 300) {
		const upload = readUpload((body as { upload?: unknown } | null)?.upload);
		return upload ? { kind: 'ok', upload } : { kind: 'refused', status: 502, reason: 'internal', message: 'the upload reply has no upload the kit can read' };
	}
	if (status === 0) return { kind: 'network', message: 'no answer' };
	const b = body as { reason?: unknown; message?: unknown } | null;
	const reason = typeof b?.reason === 'string' ? b.reason : status === 401 ? 'unauthorized' : status === 429 ? 'rate_limited' : status >= 500 || status === 408 ? 'internal' : 'invalid';
	return { kind: 'refused', status, reason, ...(typeof b?.message === 'string' ? { message: b.message } : {}) };
}

function readUpload(value: unknown): UploadedFile | null {
	const v = value as Partial<UploadedFile> | null | undefined;
	if (!v || typeof v !== 'object') return null;
	if (typeof v.id !== 'string' || typeof v.name !== 'string' || typeof v.type !== 'string' || typeof v.size !== 'number') return null;
	return { id: v.id, name: v.name, type: v.type, size: v.size };
}
