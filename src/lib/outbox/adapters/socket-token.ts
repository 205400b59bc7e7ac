/**
 * Short-lived socket tokens from a same-origin endpoint, so page scripts
 * never hold the long-lived session: the session stays in an HttpOnly
 * cookie the page cannot read, and the kit asks the server for a token that
 * lives minutes (`POST <url>` with the cookie, answering
 * `{token, expires_at, user?: {id}}`; Outbox's is `/api/socket-token`).
 *
 *   current()  the token while it is good, else null (never an expired one)
 *   refresh()  fetch a new one: 'ok' | 'unauthorized' (401/403, or the
 *              cookie names another user) | 'unreachable' (offline, 5xx)
 *
 * A good token is refreshed on its own before it expires (at 80 % of its
 * life); a failed refresh is tried again (after `retryMs`, or when the
 * transport next connects). The phoenix transport reads `current()` on every
 * connect attempt and calls `refresh()` before the first one and after a
 * refused one, so a reconnect after expiry fetches a fresh token first.
 *
 * @example
 * const source = createSocketTokenSource({ url: '/api/socket-token', expectedUser: () => outbox.user?.id ?? null });
 * createPhoenixTransport({ endpoint: '/socket', token: source.current, refreshToken: source.refresh });
 */
import type { SessionCheckResult } from './session-check.js';

export interface SocketTokenSourceOptions {
	/** Same-origin endpoint answering `POST` with `{token, expires_at}` for the cookie's session. */
	url: string;
	/** The user the engine is signed in as; a token for anyone else is refused (`unauthorized`). Default: any. */
	expectedUser?: () => string | null;
	/** Wait before trying a failed (unreachable) refresh again, ms (default 5000). */
	retryMs?: number;
	fetch?: typeof fetch;
	now?: () => number;
}

export interface SocketTokenSource {
	/** The token while it has not expired; null otherwise. */
	current(): string | null;
	/** Fetch a fresh token (calls made while one runs share it). Never rejects. */
	refresh(): Promise<SessionCheckResult>;
	/** Forget the token and stop refreshing (sign-out, another user). */
	clear(): void;
}

/** Tokens as the server issues them; anything else is refused. */
const TOKEN_RE = /^[A-Za-z0-9._-]{1,200}$/;
/** Refresh this far into a token's life. */
const REFRESH_AT = 0.8;

export function createSocketTokenSource(options: SocketTokenSourceOptions): SocketTokenSource {
	if (!options || typeof options.url !== 'string' || options.url === '') {
		throw new TypeError("createSocketTokenSource({ url: '/api/socket-token' }): url is required");
	}
	const now = options.now ?? Date.now;
	const retryMs = options.retryMs ?? 5000;
	let held: { token: string; expiresAt: number } | null = null;
	let running: Promise<SessionCheckResult> | null = null;
	let timer: ReturnType<typeof setTimeout> | null = null;
	let generation = 0;

	const schedule = (delayMs: number) => {
		if (timer !== null) clearTimeout(timer);
		timer = setTimeout(() => {
			timer = null;
			void source.refresh();
		}, Math.max(250, delayMs));
	};

	async function fetchToken(asOf: number): Promise<SessionCheckResult> {
		const doFetch = options.fetch ?? globalThis.fetch;
		let response: Response;
		try {
			response = await doFetch(options.url, {
				method: 'POST',
				credentials: 'same-origin',
				cache: 'no-store',
				headers: { accept: 'application/json' }
			});
		} catch {
			return 'unreachable';
		}
		if (response.status === 401 || response.status === 403) return 'unauthorized';
		if (!response.ok) return 'unreachable';
		const body = (await response.json().catch(() => null)) as { token?: unknown; expires_at?: unknown; user?: { id?: unknown } } | null;
		const expiresAt = typeof body?.expires_at === 'string' ? Date.parse(body.expires_at) : NaN;
		if (typeof body?.token !== 'string' || !TOKEN_RE.test(body.token) || !Number.isFinite(expiresAt)) return 'unreachable';
		const expected = options.expectedUser?.() ?? null;
		// The cookie is shared by every tab: another tab may have signed in as someone else.
		if (expected !== null && body.user?.id !== undefined && body.user.id !== expected) return 'unauthorized';
		if (asOf !== generation) return 'unreachable'; // cleared meanwhile: not ours to keep
		held = { token: body.token, expiresAt };
		schedule((expiresAt - now()) * REFRESH_AT);
		return 'ok';
	}

	const source: SocketTokenSource = {
		current() {
			return held !== null && held.expiresAt > now() ? held.token : null;
		},
		refresh() {
			running ??= fetchToken(generation).then((result) => {
				running = null;
				if (result === 'unauthorized') source.clear();
				else if (result === 'unreachable' && held !== null) schedule(retryMs);
				return result;
			});
			return running;
		},
		clear() {
			generation++;
			held = null;
			if (timer !== null) clearTimeout(timer);
			timer = null;
		}
	};
	return source;
}
