/**
 * The HTTP API, as a plain `(req, res) => handled` function so the
 * production entry, Vite's dev server and the tests mount the same code:
 *
 * - `POST   /api/session`      `{name, password}` -> `{token, user}` (first use creates the account),
 *                                and the HttpOnly, SameSite=Strict session cookie
 * - `GET    /api/session`      -> `{user, expires_at}`, or 401 when signed out
 * - `DELETE /api/session`      revoke the session (and its socket tokens), close the user's sockets (1001)
 * - `POST   /api/socket-token` -> `{token, user, expires_at}`: a socket token of `SOCKET_TOKEN_TTL_S`
 * - `POST   /api/sync/events`  `{room, actions}` -> `{results}`, exactly as `send_batch`
 * - `GET    /api/rooms`        -> `{rooms: [{slug, unread_count, last_seq}]}`
 * - `POST   /api/uploads`, `GET /api/uploads/<id>`: attachments (`uploads.ts`)
 *
 * Errors are `{reason, message?}` with the contract's reasons.
 *
 * A call authenticated by the cookie rather than a Bearer header and made
 * with a method that changes something (anything but GET/HEAD) must come
 * from this site: its `Origin` (or, without one, `Sec-Fetch-Site:
 * same-origin`) must be the server's own or an `ALLOWED_ORIGINS` entry, else
 * 403 `forbidden`. With the cookie's SameSite=Strict this stops cross-site
 * request forgery even in a browser that ignores SameSite.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describeZodError, sessionRequestSchema, syncEventsRequestSchema, type User } from '../../protocol/index.js';
import type { AttemptCounter, CallLimiter } from '../auth/shared-limits.js';
import { hashPassword, verifyPassword } from '../auth/passwords.js';
import type { TokenClaims, TokenSigner } from '../auth/tokens.js';
import type { ChannelServer } from '../channels/types.js';
import type { Logger } from '../logger.js';
import { roomAccess } from '../chat/access.js';
import type { ChatService } from '../chat/chat-service.js';
import { nameKey } from '../store/port.js';
import { HttpError, readJson, requestCredential, sendError, sendJson } from './json.js';
import type { UploadService } from '../uploads/upload-service.js';
import { createUploadRoutes } from './uploads.js';

export const SESSION_COOKIE = 'outbox_token';
/** Default lifetime of a socket token (`SOCKET_TOKEN_TTL_S`). */
export const DEFAULT_SOCKET_TOKEN_TTL_S = 300;

const isSafeMethod = (method: string | undefined) => method === undefined || method === 'GET' || method === 'HEAD';
/** Largest JSON body: a full batch of 100 maximal messages fits with room to spare. */
export const MAX_BODY_BYTES = 2 * 1024 * 1024;

export interface ApiOptions {
	chat: ChatService;
	uploads: UploadService;
	tokens: TokenSigner;
	channels: Pick<ChannelServer, 'disconnect'>;
	/** In memory on one node; PostgreSQL-backed in a cluster (`shared-limits.ts`). */
	limiters: { byName: AttemptCounter; byAddress: AttemptCounter; syncEvents: CallLimiter };
	/** The client's address, for the per-address sign-in limit (proxy-aware; default: the socket's). */
	clientAddress?(req: IncomingMessage): string;
	/** True when the request came over TLS: the session cookie is then `Secure`. */
	isSecure?(req: IncomingMessage): boolean;
	/** Whether an `Origin` may make cookie-authenticated changes (default: only the request's own host). */
	checkOrigin?(origin: string, req: IncomingMessage): boolean;
	/** Lifetime of the socket tokens `POST /api/socket-token` hands out (default 300 s). */
	socketTokenTtlSeconds?: number;
	logger: Logger;
	/** Socket group key for a user, as the channel server's `socketKey` gives it. */
	socketKey(userId: string): string;
}

export function createApi(options: ApiOptions) {
	const { chat, tokens, logger } = options;
	const store = chat.store;

	/**
	 * The signed-in user of a request, or null (bad, expired or revoked token; unknown user).
	 * Throws 403 for a cookie-authenticated change from another site (see above).
	 */
	async function authenticate(req: IncomingMessage): Promise<{ user: User; claims: TokenClaims } | null> {
		const credential = requestCredential(req, SESSION_COOKIE);
		const claims = tokens.verify(credential?.token);
		if (!claims) return null;
		if (credential?.from === 'cookie' && !isSafeMethod(req.method) && !sameSite(req)) {
			throw new HttpError(403, 'forbidden', 'a request signed in by cookie must come from this site (Origin)');
		}
		if (await store.isTokenRevoked(claims.tokenId)) return null;
		const user = await store.findUserById(claims.userId);
		return user ? { user: { id: user.id, name: user.name }, claims } : null;
	}

	function sameSite(req: IncomingMessage): boolean {
		const origin = req.headers.origin;
		if (typeof origin !== 'string' || origin === 'null') return req.headers['sec-fetch-site'] === 'same-origin' && origin === undefined;
		if (options.checkOrigin) return options.checkOrigin(origin, req);
		try {
			return new URL(origin).host === req.headers.host;
		} catch {
			return false;
		}
	}

	const socketTokenTtlS = options.socketTokenTtlSeconds ?? DEFAULT_SOCKET_TOKEN_TTL_S;

	const uploadRoutes = createUploadRoutes({ uploads: options.uploads, authenticate, logger });

	function cookie(req: IncomingMessage, token: string, maxAgeS: number) {
		const parts = [`${SESSION_COOKIE}=${token}`, 'Path=/', 'HttpOnly', 'SameSite=Strict', `Max-Age=${maxAgeS}`];
		if (options.isSecure?.(req)) parts.push('Secure');
		return parts.join('; ');
	}

	async function signIn(req: IncomingMessage, res: ServerResponse) {
		const parsed = sessionRequestSchema.safeParse(await readJson(req, 16 * 1024));
		if (!parsed.success) return sendError(res, 400, 'invalid', describeZodError(parsed.error));
		const { name, password } = parsed.data;
		// Only wrong passwords count: a busy address (a school, a test run) signs in as often as it likes,
		// while guessing one account's password, or many from one address, is slowed down.
		const key = nameKey(name);
		const address = options.clientAddress?.(req) ?? req.socket.remoteAddress ?? 'unknown';
		const wait = Math.max(await options.limiters.byName.wait(key), await options.limiters.byAddress.wait(address));
		if (wait > 0) {
			return sendError(res, 429, 'rate_limited', 'too many wrong passwords; try again later', {
				'retry-after': String(Math.ceil(wait / 1000))
			});
		}
		let user = await store.findUserByName(name);
		if (!user) {
			const created = await store.createUser(name, await hashPassword(password));
			user = created.user;
			// Two first sign-ins raced: the loser must still prove the password.
			if (!created.created && !(await verifyPassword(password, user.passwordHash))) user = null;
		} else if (!(await verifyPassword(password, user.passwordHash))) {
			user = null;
		}
		if (!user) {
			await Promise.all([options.limiters.byName.record(key), options.limiters.byAddress.record(address)]);
			return sendError(res, 401, 'unauthorized', 'wrong name or password');
		}
		const { token, claims } = tokens.issue(user.id);
		const maxAge = Math.max(0, Math.floor((claims.expiresAt - Date.now()) / 1000));
		// Exactly the contract's `{token, user}`; the expiry is in GET /api/session.
		sendJson(res, 200, { token, user: { id: user.id, name: user.name } }, { 'set-cookie': cookie(req, token, maxAge) });
	}

	async function routes(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> {
		const method = req.method ?? 'GET';
		if (path === '/api/session') {
			if (method === 'POST') return signIn(req, res).then(() => true);
			const session = await authenticate(req);
			if (method === 'GET') {
				if (!session) return (sendError(res, 401, 'unauthorized', 'not signed in'), true);
				sendJson(res, 200, { user: session.user, expires_at: new Date(session.claims.expiresAt).toISOString() });
				return true;
			}
			if (method === 'DELETE') {
				if (!session) return (sendError(res, 401, 'unauthorized', 'not signed in'), true);
				await store.revokeToken(session.claims.tokenId, session.claims.expiresAt);
				options.channels.disconnect(options.socketKey(session.user.id));
				sendJson(res, 200, {}, { 'set-cookie': cookie(req, '', 0) });
				return true;
			}
			return (sendError(res, 405, 'invalid', `${method} is not allowed here`, { allow: 'GET, POST, DELETE' }), true);
		}
		if (path === '/api/socket-token') {
			if (method !== 'POST') return (sendError(res, 405, 'invalid', 'use POST', { allow: 'POST' }), true);
			const session = await authenticate(req);
			if (!session) return (sendError(res, 401, 'unauthorized', 'not signed in'), true);
			const { token, claims } = tokens.issueSocket(session.claims, socketTokenTtlS);
			sendJson(res, 200, { token, user: session.user, expires_at: new Date(claims.expiresAt).toISOString() });
			return true;
		}
		if (path === '/api/sync/events') {
			if (method !== 'POST') return (sendError(res, 405, 'invalid', 'use POST', { allow: 'POST' }), true);
			const session = await authenticate(req);
			if (!session) return (sendError(res, 401, 'unauthorized', 'not signed in'), true);
			const limiter = options.limiters.syncEvents;
			if (!(await limiter.take(session.user.id))) {
				const { perSecond, burst } = limiter.limit;
				const retryAfter = String(await limiter.retryAfterS(session.user.id));
				sendError(res, 429, 'rate_limited', `at most ${perSecond} calls a second (bursts of ${burst}) per user`, { 'retry-after': retryAfter });
				return true;
			}
			const parsed = syncEventsRequestSchema.safeParse(await readJson(req, MAX_BODY_BYTES));
			if (!parsed.success) return (sendError(res, 400, 'invalid', describeZodError(parsed.error)), true);
			const access = roomAccess(parsed.data.room, session.user.id);
			if (access !== 'ok') return (sendError(res, access === 'forbidden' ? 403 : 400, access), true);
			await store.ensureRoom(parsed.data.room);
			const results = await chat.applyEntries(session.user, parsed.data.room, parsed.data.actions);
			sendJson(res, 200, { results });
			return true;
		}
		if (path === '/api/rooms') {
			if (method !== 'GET') return (sendError(res, 405, 'invalid', 'use GET', { allow: 'GET' }), true);
			const session = await authenticate(req);
			if (!session) return (sendError(res, 401, 'unauthorized', 'not signed in'), true);
			sendJson(res, 200, { rooms: await store.roomsForUser(session.user.id) });
			return true;
		}
		if (await uploadRoutes(req, res, path)) return true;
		if (path.startsWith('/api/')) return (sendError(res, 404, 'invalid', `no API at ${path}`), true);
		return false;
	}

	/** Handle the request if it is an API call; resolves false to let the next handler (SvelteKit) have it. */
	async function handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
		const path = (req.url ?? '/').split('?')[0]!;
		if (!path.startsWith('/api/')) return false;
		try {
			return await routes(req, res, path);
		} catch (error) {
			if (error instanceof HttpError) {
				sendError(res, error.status, error.reason, error.message);
			} else {
				logger.error({ err: error, path }, 'api request failed');
				if (!res.headersSent) sendError(res, 500, 'internal', 'server error');
				else res.destroy();
			}
			return true;
		}
	}

	return { handle, authenticate };
}
