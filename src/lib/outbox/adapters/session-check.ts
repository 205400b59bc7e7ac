/**
 * Tells "signed out" from "no network" after a refused socket connect. A
 * refused upgrade and an unreachable server look the same to a browser
 * WebSocket (close 1006 before open), so the transport asks the app's own
 * session check: any function, or `fetchSessionCheck(url, token)` for an
 * HTTP endpoint that answers 401 for a token the server no longer takes.
 */

/** What a session check found: the token works, the server refuses it, or no answer. */
export type SessionCheckResult = 'ok' | 'unauthorized' | 'unreachable';

/** Asks the server whether the current token is still good. Never rejects. */
export type SessionCheck = () => Promise<SessionCheckResult>;

/**
 * A check over HTTP: `GET <url>` with the token as a bearer. 401 (or 403) is
 * `unauthorized`, a 2xx is `ok`, anything else (5xx, a proxy's error page, a
 * network failure) is `unreachable`.
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
