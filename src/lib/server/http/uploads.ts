/**
 * The upload routes of the HTTP API (DESIGN.md "Attachments"):
 *
 * - `POST /api/uploads`: the raw file as the body, `Content-Type`,
 *   `X-Upload-Id`, `X-File-Name` (URI-encoded) -> `201 {upload: {id, name,
 *   type, size, sha256}}`
 * - `GET|HEAD /api/uploads/<id>`: the bytes, to those who may read them;
 *   404 to everyone else
 *
 * Both take the Bearer header or the session cookie (so an `<img>` loads).
 * A `GET` nobody may make, signed in or not, is the 404 of an unknown id.
 * Refusals are `{reason, message}`; one sent before the body was read closes
 * the connection, so the client stops sending.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { create as contentDisposition } from 'content-disposition';
import { isImageType, UPLOADS_PATH, type User } from '../../protocol/index.js';
import type { Logger } from '../channels/types.js';
import { downloadName } from '../uploads/file-name.js';
import { UploadRefusal, type UploadRecord } from '../uploads/port.js';
import { ClientGone } from '../uploads/staging.js';
import type { UploadService } from '../uploads/upload-service.js';
import { sendError, sendJson } from './json.js';

export interface UploadRoutesOptions {
	uploads: UploadService;
	authenticate(req: IncomingMessage): Promise<{ user: User } | null>;
	logger: Logger;
}

/** Handles `/api/uploads` and `/api/uploads/<id>`; resolves false for any other path. */
export function createUploadRoutes({ uploads, authenticate, logger }: UploadRoutesOptions) {
	async function post(req: IncomingMessage, res: ServerResponse, user: User) {
		const length = req.headers['content-length'];
		try {
			const upload = await uploads.receive(user, {
				uploadId: header(req, 'x-upload-id'),
				contentType: req.headers['content-type'],
				fileName: header(req, 'x-file-name'),
				contentLength: length === undefined ? null : Number(length),
				body: req
			});
			const { id, name, type, size, sha256 } = upload;
			sendJson(res, 201, { upload: { id, name, type, size, sha256 } });
		} catch (error) {
			if (error instanceof ClientGone) return void res.destroy();
			if (!(error instanceof UploadRefusal)) throw error;
			// Refused while the body may still be arriving: answer, then close rather than read the rest.
			const closing = req.readableEnded ? {} : { connection: 'close' };
			sendError(res, error.status, error.reason, error.message, { ...error.headers, ...closing });
		}
	}

	async function get(req: IncomingMessage, res: ServerResponse, user: User, id: string) {
		const upload = await uploads.findReadable(user, id);
		if (!upload) return sendError(res, 404, 'invalid', 'no such upload');
		const etag = `"${upload.sha256}"`;
		const headers = servingHeaders(upload, etag);
		if (matchesEtag(req.headers['if-none-match'], etag)) {
			res.writeHead(304, headers).end();
			return;
		}
		res.writeHead(200, { ...headers, 'content-type': contentType(upload), 'content-length': upload.size });
		if (req.method === 'HEAD') return void res.end();
		try {
			await pipeline(uploads.read(upload), res);
		} catch (error) {
			// The reader left, or the bytes could not be read: the status is sent, so only the connection can tell.
			if (!res.writableFinished) logger.warn({ err: error, upload: upload.id }, 'upload download ended early');
			res.destroy();
		}
	}

	return async function handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> {
		if (path !== UPLOADS_PATH && !path.startsWith(`${UPLOADS_PATH}/`)) return false;
		const id = path === UPLOADS_PATH ? null : path.slice(UPLOADS_PATH.length + 1);
		const method = req.method ?? 'GET';
		const allowed = id === null ? 'POST' : 'GET, HEAD';
		if (!allowed.split(', ').includes(method)) {
			sendError(res, 405, 'invalid', `use ${allowed}`, { allow: allowed, ...(id === null ? { connection: 'close' } : {}) });
			return true;
		}
		const session = await authenticate(req);
		if (id !== null) {
			// Signed out or not allowed: the same 404 as an unknown id, so no answer tells a file exists.
			if (!session) sendError(res, 404, 'invalid', 'no such upload');
			else await get(req, res, session.user, id);
			return true;
		}
		if (!session) sendError(res, 401, 'unauthorized', 'not signed in', { connection: 'close' });
		else await post(req, res, session.user);
		return true;
	};
}

function header(req: IncomingMessage, name: string): string | undefined {
	const value = req.headers[name];
	return Array.isArray(value) ? value[0] : value;
}

/** The stored type; text is UTF-8 (checked on the way in), so say so rather than let a browser guess. */
function contentType(upload: UploadRecord): string {
	return upload.type === 'text/plain' ? 'text/plain; charset=utf-8' : upload.type;
}

/**
 * Never run, never sniffed: `sandbox` keeps even a PDF viewer's scripts in an
 * opaque origin, `nosniff` holds the browser to the stored type, and only
 * images show inline. `no-cache` with the ETag: every use revalidates, so a
 * file whose message was deleted stops being served.
 */
function servingHeaders(upload: UploadRecord, etag: string): Record<string, string> {
	return {
		etag,
		'cache-control': 'private, no-cache',
		'x-content-type-options': 'nosniff',
		'content-security-policy': 'sandbox',
		'content-disposition': contentDisposition(downloadName(upload.name, upload.type), {
			type: isImageType(upload.type) ? 'inline' : 'attachment'
		})
	};
}

/** `If-None-Match` as RFC 9110 reads it: `*`, or a list of (possibly weak) tags. */
function matchesEtag(header: string | undefined, etag: string): boolean {
	if (!header) return false;
	if (header.trim() === '*') return true;
	return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}
