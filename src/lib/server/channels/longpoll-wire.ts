/**
 * One LongPoll session as a `Wire` (PROTOCOL.md §4.10): frames wait here
 * until a GET takes them, or go at once to a GET held open. The channel
 * layer above it is the same as for a WebSocket; longpoll.ts serves the HTTP.
 */
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { Wire } from './connection.js';

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
