/**
 * Tells "signed out" from "no network" after a refused socket connect. A
 * refused upgrade and an unreachable server look the same to a WebSocket
 * (close 1006 before open), so the transport asks `GET /api/session`, which
 * answers 401 for an invalid, revoked or expired token (DESIGN.md).
 */

/** What a session check found: the token works, the server refuses it, or no answer. */
export type SessionCheckResult = 'ok' | 'unauthorized' | 'unreachable';

/** Asks the server whether the current token is still good. Never rejects. */
export type SessionCheck = () => Promise<SessionCheckResult>;

/**
 * The HTTP URL of `/api/session` beside a socket endpoint: `'/socket'` gives
 * `'/api/session'`, `'ws://host:3000/socket'` gives `'http://host:3000/api/session'`.
 */
export function sessionUrlFor(endpoint: string): string {
	if (endpoint.startsWith('/') && !endpoint.startsWith('//')) return '/api/session';
	const url = new URL(endpoint.startsWith('//') ? `ws:${endpoint}` : endpoint);
	const protocol = url.protocol === 'wss:' || url.protocol === 'https:' ? 'https:' : 'http:';
	return `${protocol}//${url.host}/api/session`;
}

/**
 * The default check: `GET <sessionUrl>` with the token as a bearer. 401 (or
 * 403) is `unauthorized`, a 2xx is `ok`, anything else (5xx, a proxy's error
 * page, a network failure) is `unreachable`.
 *
 * @example
 * const check = fetchSessionCheck('/api/session', () => localStorage.getItem('token'));
 * if ((await check()) === 'unauthorized') showSignIn();
 */
export function fetchSessionCheck(url: string, token: () => string | null): SessionCheck {
	return async () => {
		const current = token();
		if (!current) return 'unauthorized';
		try {
			const res = await fetch(url, {
				credentials: 'same-origin',
				cache: 'no-store',
				headers: { authorization: `Bearer ${current}` }
			});
			if (res.status === 401 || res.status === 403) return 'unauthorized';
			return res.ok ? 'ok' : 'unreachable';
		} catch {
			return 'unreachable';
		}
	};
}
