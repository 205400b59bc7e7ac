/**
 * The signed-in session: `POST /api/session` to sign in, `DELETE` to sign
 * out. The credential is the server's HttpOnly, SameSite=Strict cookie,
 * which page scripts cannot read: the app ignores the `token` of the sign-in
 * answer, sends the cookie with its own calls, and gets short-lived socket
 * tokens from `POST /api/socket-token` (the kit's `socketToken` option).
 * Only `{user}` is kept in localStorage (`outbox:session`), so a reload while
 * offline still knows who is signed in; no token is ever stored.
 *
 * @example
 * const result = await signIn('ada', 'secret');
 * if (result.ok) saveSession(result.session);
 * else showError(result.message);
 */
import { z } from 'zod';

/** Where the session is kept (DESIGN.md app contract; tests read it). */
export const SESSION_KEY = 'outbox:session';

const sessionSchema = z.object({
	user: z.object({ id: z.string().min(1), name: z.string().min(1) })
});

export type Session = z.infer<typeof sessionSchema>;
export type SessionUser = Session['user'];

export type SignInResult = { ok: true; session: Session } | { ok: false; message: string };

/** The stored session, or null (none, unreadable, or storage blocked). */
export function loadSession(storage?: Storage): Session | null {
	try {
		const raw = (storage ?? globalThis.localStorage)?.getItem(SESSION_KEY);
		if (!raw) return null;
		const stored = JSON.parse(raw) as Record<string, unknown> | null;
		const parsed = sessionSchema.safeParse(stored);
		if (!parsed.success) return null;
		// Stored by an older version with its token: keep the user, drop the credential.
		if (stored && 'token' in stored) saveSession(parsed.data, storage);
		return { user: parsed.data.user };
	} catch {
		return null;
	}
}

export function saveSession(session: Session, storage?: Storage): void {
	try {
		(storage ?? globalThis.localStorage)?.setItem(SESSION_KEY, JSON.stringify({ user: session.user }));
	} catch {
		// Storage blocked: the session lives in memory until the tab closes.
	}
}

export function clearSession(storage?: Storage): void {
	try {
		(storage ?? globalThis.localStorage)?.removeItem(SESSION_KEY);
	} catch {
		// Nothing stored we could remove.
	}
}

/** Sign in (the first sign-in with a name creates the account). Never throws. */
export async function signIn(name: string, password: string, fetchFn: typeof fetch = fetch): Promise<SignInResult> {
	if (!name.trim() || !password) return { ok: false, message: 'Enter a name and a password.' };
	let response: Response;
	try {
		response = await fetchFn('/api/session', {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			credentials: 'same-origin',
			body: JSON.stringify({ name, password })
		});
	} catch {
		return { ok: false, message: "Can't reach the server. Check your connection and try again." };
	}
	if (response.ok) {
		const parsed = sessionSchema.safeParse(await response.json().catch(() => null));
		// The answer's `token` is for non-browser clients: the cookie the server set is the credential here.
		return parsed.success ? { ok: true, session: { user: parsed.data.user } } : { ok: false, message: 'The server sent an unexpected answer.' };
	}
	const detail = (await response.json().catch(() => null)) as { message?: unknown } | null;
	return { ok: false, message: signInErrorText(response.status, response.headers.get('retry-after'), detail?.message) };
}

/** The sentence shown for a refused sign-in. */
export function signInErrorText(status: number, retryAfter: string | null, serverMessage: unknown): string {
	if (status === 401) return 'That name is taken and the password does not match.';
	if (status === 429) {
		const seconds = Number(retryAfter);
		return Number.isFinite(seconds) && seconds > 0
			? `Too many attempts. Try again in ${seconds} second${seconds === 1 ? '' : 's'}.`
			: 'Too many attempts. Try again in a moment.';
	}
	if (status === 400) {
		const text = typeof serverMessage === 'string' ? serverMessage.replace(/^[\w.]+: /, '') : '';
		return text ? `Check the form: ${text}.` : 'Check the name and password.';
	}
	return 'The server had a problem. Try again.';
}

/**
 * Revoke the session (the cookie's, and with it every socket token made from
 * it) on the server; best effort (offline: the cookie's session simply
 * expires, and the service worker sends nothing for a signed-out user).
 */
export async function revokeSession(fetchFn: typeof fetch = fetch): Promise<void> {
	const controller = new AbortController();
	const timer = setTimeout(() => controller.abort(), 3000);
	try {
		await fetchFn('/api/session', { method: 'DELETE', credentials: 'same-origin', signal: controller.signal });
	} catch {
		// Offline or slow: signing out locally is what matters.
	} finally {
		clearTimeout(timer);
	}
}
