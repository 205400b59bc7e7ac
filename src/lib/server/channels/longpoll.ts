/**
 * Phoenix's LongPoll transport (PROTOCOL.md §4.10), for clients whose
 * network lets no WebSocket through (some proxies) and for the official
 * client's `longPollFallbackMs`. A session is a `Wire` like a WebSocket, so
 * the channel layer above it is the same; only the bytes travel over HTTP:
 *
 * - `GET <path>/longpoll` with no session: authenticate (the
 *   `X-Phoenix-AuthToken` header, else the `token` param), open a session,
 *   answer `{status: 410, token}` ("open"); a refused token answers
 *   `{status: 403}`.
 * - `GET` with the session's token: answer the frames waiting
 *   (`{status: 200, token, messages: [<frame text>]}`), or hold the request
 *   up to `windowMs` for one, then `{status: 204}`. A session that is gone
 *   answers `{status: 410}` (the client reconnects).
 * - `POST` with the session's token: an ndjson body of frames (text frames
 *   start with `[`, binary ones are base64), dispatched in order; `{status: 200}`.
 *
 * The HTTP status is always 200 and the real one is in the body, as Phoenix
 * does. Sessions die like sockets: kicked, closed with the server, or idle
 * past `idleTimeoutMs` (the same sweep as WebSockets; a poll counts as traffic).
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Wire } from './connection.js';

/** How long a GET is held open waiting for a frame (Phoenix's `window_ms`). */
export const LONGPOLL_WINDOW_MS = 10_000;

/** Largest POST body kept (a batch of frames); larger ones answer `{status: 400}` and nothing of them is dispatched. */
export const LONGPOLL_MAX_BODY_BYTES = 8 * 1024 * 1024;

/** Every session token starts with this, so a token of a gone session is told from an auth token. */
export const SESSION_TOKEN_PREFIX = 'lp';

const OPEN = 1;
const CLOSED = 3;

/** One LongPoll session: frames wait here until a GET takes them. */
export class LongPollWire implements Wire {
	readyState = OPEN;
	/** Bytes waiting for a GET (the slow-consumer check reads it like a socket's). */
	bufferedAmount = 0;
	readonly token = `${SESSION_TOKEN_PREFIX}${randomBytes(18).toString('base64url')}`;
	#messages: string[] = [];
	#poll: ServerResponse | null = null;
	#pollHeaders: Record<string, string> = {};
	#pollTimer: NodeJS.Timeout | null = null;
	#answerScheduled = false;

	constructor(
		readonly windowMs: number,
		/** Called once when the session ends (kicked, terminated, server closing). */
		private readonly onEnd: (wire: LongPollWire, code: number, reason: string) => void
	) {}

	send(data: string | Uint8Array, options: { binary: boolean }): void {
		if (this.readyState !== OPEN) return;
		// The client reads every LongPoll message as text (PROTOCOL.md §2.2: binary is WebSocket-only).
		if (options.binary) return;
		const text = typeof data === 'string' ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8');
		this.#messages.push(text);
		this.bufferedAmount += text.length;
		// Frames made in one turn (a reply and its broadcasts) go out in one answer.
		if (this.#poll && !this.#answerScheduled) {
			this.#answerScheduled = true;
			setImmediate(() => {
				this.#answerScheduled = false;
				if (this.#poll && this.#messages.length) this.#answer(this.#poll, this.#pollHeaders);
			});
		}
	}

	/** Whether a GET is held open (the session is alive however long ago its last frame came). */
	get polling(): boolean {
		return this.#poll !== null;
	}

	/** A GET with this session's token: answer what waits, or hold it. `headers`: CORS, say. */
	poll(res: ServerResponse, headers: Record<string, string> = {}): void {
		if (this.#poll) this.#settlePoll({ status: 204 }); // one poll at a time: the newer one waits
		if (this.#messages.length) return this.#answer(res, headers);
		this.#poll = res;
		this.#pollHeaders = headers;
		this.#pollTimer = setTimeout(() => this.#settlePoll({ status: 204 }), this.windowMs);
		res.once('close', () => {
			if (this.#poll === res) this.#clearPoll();
		});
	}

	close(code = 1000, reason = ''): void {
		this.#end(code, reason);
	}

	terminate(): void {
		this.#end(1006, '');
	}

	#end(code: number, reason: string): void {
		if (this.readyState === CLOSED) return;
		this.readyState = CLOSED;
		this.#messages = [];
		this.bufferedAmount = 0;
		// A waiting client hears at once that its session is gone, and reconnects.
		this.#settlePoll({ status: 410 });
		this.onEnd(this, code, reason);
	}

	#answer(res: ServerResponse, headers: Record<string, string>): void {
		if (this.#poll === res) this.#clearPoll();
		const messages = this.#messages;
		this.#messages = [];
		this.bufferedAmount = 0;
		writeStatus(res, { status: 200, token: this.token, messages }, headers);
	}

	#settlePoll(body: LongPollBody): void {
		const res = this.#poll;
		if (!res) return;
		const headers = this.#pollHeaders;
		this.#clearPoll();
		// The client takes `token` from every answer: a 204 without it would start a new session.
		writeStatus(res, body.status === 204 ? { ...body, token: this.token } : body, headers);
	}

	#clearPoll(): void {
		if (this.#pollTimer) clearTimeout(this.#pollTimer);
		this.#pollTimer = null;
		this.#poll = null;
		this.#pollHeaders = {};
	}
}

export interface LongPollBody {
	status: 200 | 204 | 403 | 410 | 500 | 400;
	token?: string;
	messages?: string[];
}

/** Always HTTP 200 with the status in the JSON body, never cached (PROTOCOL.md §4.10). */
export function writeStatus(res: ServerResponse, body: LongPollBody, headers: Record<string, string> = {}): void {
	if (res.headersSent || res.destroyed) return;
	const json = JSON.stringify(body);
	res.writeHead(200, {
		'content-type': 'application/json; charset=utf-8',
		'cache-control': 'no-store',
		'content-length': Buffer.byteLength(json),
		...headers
	});
	res.end(json);
}

/** The frames of a POST body: one per non-empty line; text frames start with `[`, others are base64 binary. */
export function splitFrames(body: string): Array<{ data: Buffer; isBinary: boolean }> {
	const frames: Array<{ data: Buffer; isBinary: boolean }> = [];
	for (const line of body.split('\n')) {
		const trimmed = line.endsWith('\r') ? line.slice(0, -1) : line;
		if (trimmed === '') continue;
		if (trimmed.startsWith('[')) frames.push({ data: Buffer.from(trimmed, 'utf8'), isBinary: false });
		else frames.push({ data: Buffer.from(trimmed, 'base64'), isBinary: true });
	}
	return frames;
}

/**
 * Read a request body up to `limit` bytes; null when it is larger. The rest
 * of a larger body is read and dropped (not kept), so the answer still
 * reaches a client that is uploading.
 */
export function readBody(request: IncomingMessage, limit: number): Promise<string | null> {
	return new Promise((resolve, reject) => {
		let chunks: Buffer[] | null = [];
		let size = 0;
		request.on('data', (chunk: Buffer) => {
			size += chunk.length;
			if (size > limit) chunks = null;
			else chunks?.push(chunk);
		});
		request.on('end', () => resolve(chunks ? Buffer.concat(chunks).toString('utf8') : null));
		request.on('error', reject);
	});
}

/** The LongPoll path for a WebSocket path: `/socket/websocket` → `/socket/longpoll` (as the client derives it). */
export function longPollPath(websocketPath: string): string {
	return websocketPath.endsWith('/websocket') ? `${websocketPath.slice(0, -'/websocket'.length)}/longpoll` : `${websocketPath}/longpoll`;
}
