/**
 * Files of each type (real leading bytes, padded to any size) and HTTP
 * calls to the upload endpoints: `fetch` for the ordinary cases, `node:http`
 * where a test needs to hold, chunk or cut a body.
 */
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';

const SIGNATURES: Record<string, number[]> = {
	'image/png': [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52],
	'image/jpeg': [0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46, 0x49, 0x46],
	'image/gif': [...Buffer.from('GIF89a'), 1, 0, 1, 0],
	'image/webp': [...Buffer.from('RIFF'), 0x24, 0, 0, 0, ...Buffer.from('WEBPVP8 ')],
	'application/pdf': [...Buffer.from('%PDF-1.7\n')]
};

/** `size` bytes that start as a file of `type` must (text: readable UTF-8). */
export function fileOf(type: string, size = 1024, fill = 0x20): Buffer {
	if (type === 'text/plain') return Buffer.alloc(size, 'héllo wörld\n');
	const head = Buffer.from(SIGNATURES[type]!);
	const body = Buffer.alloc(Math.max(size, head.length), fill);
	head.copy(body);
	return body;
}

export const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

export interface UploadCall {
	token?: string;
	cookie?: string;
	type?: string;
	id?: string;
	/** Sent as X-File-Name exactly as given (encode it yourself). */
	name?: string;
	headers?: Record<string, string>;
}

let uploadCount = 0;
/** A fresh X-Upload-Id. */
export const uploadId = () => `up-${Date.now().toString(36)}-${(uploadCount++).toString(36)}`;

/** `POST /api/uploads` with `fetch`; the body as JSON when there is one. */
export async function postUpload(baseUrl: string, body: Buffer, call: UploadCall = {}) {
	const headers: Record<string, string> = { 'x-upload-id': call.id ?? uploadId(), ...call.headers };
	if (call.type !== undefined) headers['content-type'] = call.type;
	if (call.name !== undefined) headers['x-file-name'] = call.name;
	if (call.token) headers.authorization = `Bearer ${call.token}`;
	if (call.cookie) headers.cookie = call.cookie;
	const res = await fetch(`${baseUrl}/api/uploads`, { method: 'POST', headers, body: new Uint8Array(body) });
	const text = await res.text();
	return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}

/** `GET /api/uploads/<id>`; the bytes as a Buffer. */
export async function getUpload(baseUrl: string, id: string, auth: { token?: string; cookie?: string; headers?: Record<string, string> } = {}) {
	const headers: Record<string, string> = { ...auth.headers };
	if (auth.token) headers.authorization = `Bearer ${auth.token}`;
	if (auth.cookie) headers.cookie = auth.cookie;
	const res = await fetch(`${baseUrl}/api/uploads/${id}`, { headers });
	return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}

/**
 * A `node:http` upload the test drives: write chunks when it likes, end or
 * cut it; `response` settles with the status and body, or with the error.
 */
export function openUpload(baseUrl: string, call: UploadCall & { contentLength?: number }) {
	const url = new URL(`${baseUrl}/api/uploads`);
	const headers: Record<string, string | number> = { 'x-upload-id': call.id ?? uploadId(), ...call.headers };
	if (call.type !== undefined) headers['content-type'] = call.type;
	if (call.name !== undefined) headers['x-file-name'] = call.name;
	if (call.token) headers.authorization = `Bearer ${call.token}`;
	if (call.contentLength !== undefined) headers['content-length'] = call.contentLength;
	const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers });
	const response = new Promise<{ status: number; body: any }>((resolve, reject) => {
		req.on('response', (res) => {
			const chunks: Buffer[] = [];
			res.on('data', (c: Buffer) => chunks.push(c));
			res.on('end', () => {
				const text = Buffer.concat(chunks).toString('utf8');
				resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null });
			});
		});
		req.on('error', reject);
	});
	// Writes after an early refusal fail with EPIPE; the response is what the test reads.
	response.catch(() => {});
	return { req, response };
}

/** Files in a folder (empty when it does not exist). */
export function filesIn(dir: string): string[] {
	try {
		return readdirSync(dir).filter((name) => !name.startsWith('.'));
	} catch {
		return [];
	}
}

export const stagingOf = (dataDir: string) => join(dataDir, 'uploads', '.staging');
export const uploadsOf = (dataDir: string) => join(dataDir, 'uploads');

/** A clock a test moves by hand. */
export function manualClock(start = Date.now()) {
	let now = start;
	return {
		now: () => now,
		advance(ms: number) {
			now += ms;
		}
	};
}
