/**
 * Who the APP considers signed in, where the service worker can read it.
 *
 * The worker learns the user from the session cookie (`GET /api/session`),
 * but the cookie outlives a sign-out made offline (the revoking
 * `DELETE /api/session` never reached the server, and an HttpOnly cookie
 * cannot be cleared from script). Without this marker the worker would then
 * send the signed-out user's queue as soon as the network is back — exactly
 * what DESIGN.md forbids ("another user on the same browser never sees or
 * sends it"). So the page records the engine's current user here (Cache
 * Storage: readable by windows and the worker alike, even while the worker
 * is stopped), and the worker flushes only when it names the cookie's user.
 */

/** Cache name of the marker (kept by the worker across versions). */
export const SESSION_CACHE = 'outbox-session';
const MARKER_KEY = '/__outbox-signed-in';

/** Record the signed-in user (null: nobody). Never throws (no Cache Storage: nothing recorded). */
export async function writeSignedInUser(userId: string | null, storage: CacheStorage | undefined = globalThis.caches): Promise<void> {
	if (!storage) return;
	try {
		const cache = await storage.open(SESSION_CACHE);
		await cache.put(
			MARKER_KEY,
			new Response(JSON.stringify({ userId, at: Date.now() }), { headers: { 'content-type': 'application/json' } })
		);
	} catch {
		// Storage refused (private mode, quota): the worker then finds no marker and sends nothing.
	}
}

/** The user the app last recorded as signed in; null when nobody is, or nothing was recorded. */
export async function readSignedInUser(storage: CacheStorage | undefined = globalThis.caches): Promise<string | null> {
	if (!storage) return null;
	try {
		const response = await (await storage.open(SESSION_CACHE)).match(MARKER_KEY);
		if (!response) return null;
		const userId = ((await response.json()) as { userId?: unknown }).userId;
		return typeof userId === 'string' && userId !== '' ? userId : null;
	} catch {
		return null;
	}
}
