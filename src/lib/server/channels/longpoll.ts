/**
 * Phoenix's LongPoll transport over HTTP (PROTOCOL.md §4.10), for clients
 * whose network lets no WebSocket through (some proxies) and for the official
 * client's `longPollFallbackMs`. A session is a `Wire` (longpoll-wire.ts), so
 * the channel layer above it is the same as for a WebSocket:
 *
 * - `GET <path>/longpoll` with no session: authenticate (the
 *   `X-Phoenix-AuthToken` header, else the `token` param), open a session,
 *   answer `{status: 410, token}` ("open"); a refused token answers
 *   `{status: 403}`.
 * - `GET` with the session's token: answer the frames waiting
 *   (`{status: 200, token, messages: [<frame text>]}`), or hold the request
 *   up to the window for one, then `{status: 204}`. A session that is gone
 *   answers `{status: 410}` (the client reconnects).
 * - `POST` with the session's token: an ndjson body of frames (text frames
 *   start with `[` in V2 or `{` in V1, binary ones are base64), dispatched in
 *   order; any other content type is one frame (older clients); `{status: 200}`.
 *
 * The HTTP status is always 200 and the real one is in the body, as Phoenix
 * does. Sessions die like sockets: kicked, closed with the server, or idle
 * past `idleTimeoutMs` (the server's sweep; a held poll counts as traffic).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Admission, Admitted, Connection, Wire } from './connection.js';
import { dispatchMessage } from './dispatch.js';
import { LongPollWire, SESSION_TOKEN_PREFIX, writeStatus } from './longpoll-wire.js';
import type { ResolvedOptions } from './options.js';
import { parseUpgradeTarget, type UpgradeTarget } from './upgrade.js';

/** How long a GET is held open waiting for a frame (Phoenix's `window_ms`). */
export const LONGPOLL_WINDOW_MS = 10_000;

/** Largest POST body kept (a batch of frames); larger ones answer `{status: 400}` and nothing of them is dispatched. */
export const LONGPOLL_MAX_BODY_BYTES = 8 * 1024 * 1024;

/** What the LongPoll transport needs from the channel server that owns the connections. */
export interface LongPollHost<A> {
	readonly options: ResolvedOptions<A>;
	originAllowed(origin: string, request: IncomingMessage): boolean;
	/** Check version, origin and token, as for a WebSocket upgrade. */
	admit(request: IncomingMessage, params: Record<string, string>, token: string | null): Promise<Admission<A>>;
	connectionOf(wire: Wire): Connection<A> | undefined;
	register(wire: Wire, admitted: Admitted<A>): void;
	/** The session ended (kicked, idle, server closing). */
	closed(wire: Wire, code: number, reason: string): void;
}

/** Serve `GET`/`POST`/`OPTIONS` on the LongPoll path; `handle` returns false for any other request. */
export function createLongPollTransport<A>(host: LongPollHost<A>) {
	const { options } = host;
	const { logger } = options;
	const pollPath = longPollPath(options.path);
	const sessions = new Map<string, LongPollWire>();

	function handle(request: IncomingMessage, res: ServerResponse): boolean {
		const target = parseUpgradeTarget(request);
		if (!target || target.pathname !== pollPath) return false;
		serve(request, res, target).catch((err: unknown) => {
			logger.error({ err }, 'longpoll request failed');
			writeStatus(res, { status: 500 });
		});
		return true;
	}

	async function serve(request: IncomingMessage, res: ServerResponse, target: UpgradeTarget): Promise<void> {
		const origin = request.headers.origin;
		const allowed = origin === undefined || host.originAllowed(origin, request);
		const cors: Record<string, string> = origin !== undefined && allowed ? { 'access-control-allow-origin': origin, vary: 'origin' } : {};
		if (request.method === 'OPTIONS') {
			res.writeHead(allowed ? 204 : 403, {
				...cors,
				'access-control-allow-methods': 'GET, POST, OPTIONS',
				'access-control-allow-headers': 'content-type, accept, x-requested-with, x-phoenix-authtoken, x-phoenix-longpoll-token',
				'access-control-max-age': '600'
			});
			res.end();
			return;
		}
		if (request.method !== 'GET' && request.method !== 'POST') {
			res.writeHead(405, { allow: 'GET, POST, OPTIONS', 'content-length': 0 }).end();
			return;
		}
		if (!allowed) {
			logger.warn({ origin }, 'longpoll refused: foreign origin');
			return writeStatus(res, { status: 403 });
		}
		const sessionHeader = request.headers['x-phoenix-longpoll-token'];
		const offered = typeof sessionHeader === 'string' ? [...target.tokens, sessionHeader] : target.tokens;
		const wire = offered.map((t) => sessions.get(t)).find((w) => w !== undefined);
		if (wire) {
			const conn = host.connectionOf(wire);
			if (!conn || conn.isClosed) return writeStatus(res, { status: 410 }, cors);
			if (request.method === 'GET') {
				conn.lastSeen = Date.now();
				return wire.poll(res, cors);
			}
			return await receiveFrames(request, res, conn, cors);
		}
		// A session token that names no session (or a POST without one): gone; the client reconnects.
		if (request.method === 'POST' || offered.some((t) => t.startsWith(SESSION_TOKEN_PREFIX))) {
			return writeStatus(res, { status: 410 }, cors);
		}
		const authHeader = request.headers['x-phoenix-authtoken'];
		const admitted = await host.admit(request, target.params, typeof authHeader === 'string' ? authHeader : (offered[0] ?? null));
		if ('refuse' in admitted) {
			// 403 closes the client for good (1008, retried with backoff); 500 makes it retry.
			return writeStatus(res, { status: admitted.refuse === 403 || admitted.refuse === 400 ? 403 : 500 }, cors);
		}
		const session = new LongPollWire(LONGPOLL_WINDOW_MS, (ended, code, reason) => {
			sessions.delete(ended.token);
			host.closed(ended, code, reason);
		});
		sessions.set(session.token, session);
		host.register(session, admitted);
		writeStatus(res, { status: 410, token: session.token, messages: [] }, cors);
	}

	async function receiveFrames(request: IncomingMessage, res: ServerResponse, conn: Connection<A>, cors: Record<string, string>) {
		// The client sends at most 100 frames per POST (PROTOCOL.md §4.10); the body is held in memory, so it is capped.
		const body = await readBody(request, Math.min(options.maxPayload * 100, LONGPOLL_MAX_BODY_BYTES));
		if (body === null) return writeStatus(res, { status: 400 }, cors);
		conn.lastSeen = Date.now();
		for (const frame of splitFrames(body, request.headers['content-type'])) {
			if (conn.isClosed) break;
			if (frame.data.byteLength > options.maxPayload) {
				logger.debug({ connectionId: conn.id, bytes: frame.data.byteLength }, 'longpoll frame over maxPayload ignored');
				continue;
			}
			options.trace?.({ type: 'in', connectionId: conn.id, data: frame.isBinary ? frame.data : frame.data.toString('utf8') });
			try {
				dispatchMessage(conn, frame.data, frame.isBinary);
			} catch (err) {
				// A bug in here must cost one frame, never the session.
				logger.error({ err, connectionId: conn.id }, 'frame handling threw');
			}
		}
		writeStatus(res, { status: 200 }, cors);
	}

	return { handle };
}

/**
 * The frames of a POST body. `application/x-ndjson` (today's clients): one
 * per non-empty line, text frames start with `[` (V2) or `{` (V1), others
 * are base64 binary. Any other content type: the whole body is one text
 * frame (Phoenix's wrap for older clients).
 */
export function splitFrames(body: string, contentType?: string): Array<{ data: Buffer; isBinary: boolean }> {
	if (!isNdjson(contentType)) return body.trim() === '' ? [] : [{ data: Buffer.from(body, 'utf8'), isBinary: false }];
	const frames: Array<{ data: Buffer; isBinary: boolean }> = [];
	for (const line of body.split('\n')) {
		const trimmed = line.endsWith('\r') ? line.slice(0, -1) : line;
		if (trimmed === '') continue;
		if (trimmed.startsWith('[') || trimmed.startsWith('{')) frames.push({ data: Buffer.from(trimmed, 'utf8'), isBinary: false });
		else frames.push({ data: Buffer.from(trimmed, 'base64'), isBinary: true });
	}
	return frames;
}

function isNdjson(contentType: string | undefined): boolean {
	return contentType !== undefined && contentType.split(';')[0]!.trim().toLowerCase() === 'application/x-ndjson';
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
