/** Small JSON helpers for plain `node:http` handlers. */
import type { IncomingMessage, ServerResponse } from 'node:http';

export class HttpError extends Error {
	constructor(
		readonly status: number,
		readonly reason: string,
		message: string
	) {
		super(message);
	}
}

/** Read a JSON body of at most `limit` bytes; 413/400/415 as `HttpError`s. */
export async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
	const type = req.headers['content-type'] ?? '';
	if (!/^application\/json\b/i.test(type)) {
		throw new HttpError(415, 'invalid', 'send the body as application/json');
	}
	const declared = Number(req.headers['content-length'] ?? 0);
	if (declared > limit) throw new HttpError(413, 'invalid', `body is larger than ${limit} bytes`);
	const chunks: Buffer[] = [];
	let size = 0;
	for await (const chunk of req as AsyncIterable<Buffer>) {
		size += chunk.length;
		if (size > limit) throw new HttpError(413, 'invalid', `body is larger than ${limit} bytes`);
		chunks.push(chunk);
	}
	try {
		return JSON.parse(Buffer.concat(chunks).toString('utf8'));
	} catch {
		throw new HttpError(400, 'invalid', 'body is not valid JSON');
	}
}

export function sendJson(
	res: ServerResponse,
	status: number,
	body: unknown,
	headers: Record<string, string | string[]> = {}
) {
	const text = JSON.stringify(body);
	res.writeHead(status, {
		'content-type': 'application/json; charset=utf-8',
		'content-length': Buffer.byteLength(text),
		'cache-control': 'no-store',
		...headers
	});
	res.end(text);
}

export function sendError(res: ServerResponse, status: number, reason: string, message?: string, headers = {}) {
	sendJson(res, status, message ? { reason, message } : { reason }, headers);
}

/** The request's token and where it came from (a Bearer header wins over the cookie), or null. */
export function requestCredential(req: IncomingMessage, cookieName: string): { token: string; from: 'bearer' | 'cookie' } | null {
	const auth = req.headers.authorization;
	if (auth) {
		const match = /^Bearer\s+(\S+)$/i.exec(auth);
		return match ? { token: match[1]!, from: 'bearer' } : null;
	}
	const cookie = req.headers.cookie;
	if (!cookie) return null;
	for (const part of cookie.split(';')) {
		const eq = part.indexOf('=');
		if (eq > 0 && part.slice(0, eq).trim() === cookieName) {
			try {
				return { token: decodeURIComponent(part.slice(eq + 1).trim()), from: 'cookie' };
			} catch {
				return null;
			}
		}
	}
	return null;
}

