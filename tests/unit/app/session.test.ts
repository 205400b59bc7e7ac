import { describe, expect, it } from 'vitest';
import { clearSession, loadSession, saveSession, SESSION_KEY, signIn, signInErrorText } from '../../../src/lib/app/session.js';

class MemoryStorage {
	map = new Map<string, string>();
	getItem(key: string) {
		return this.map.get(key) ?? null;
	}
	setItem(key: string, value: string) {
		this.map.set(key, value);
	}
	removeItem(key: string) {
		this.map.delete(key);
	}
}

const asStorage = (s: MemoryStorage) => s as unknown as Storage;

describe('app session', () => {
	it('keeps only {user} under outbox:session (never a token) and ignores anything unreadable', () => {
		const storage = new MemoryStorage();
		const session = { user: { id: 'ann1', name: 'Ann' } };
		saveSession({ ...session, token: 'v1.leaked' } as typeof session, asStorage(storage));
		expect(JSON.parse(storage.getItem(SESSION_KEY)!)).toEqual(session);
		expect(loadSession(asStorage(storage))).toEqual(session);
		// An older version stored the token beside the user: the user is kept, the token dropped.
		storage.setItem(SESSION_KEY, JSON.stringify({ token: 'v1.old', user: session.user }));
		expect(loadSession(asStorage(storage))).toEqual(session);
		expect(storage.getItem(SESSION_KEY)).not.toContain('v1.old');
		storage.setItem(SESSION_KEY, '{"token": 5}');
		expect(loadSession(asStorage(storage))).toBeNull();
		storage.setItem(SESSION_KEY, 'not json');
		expect(loadSession(asStorage(storage))).toBeNull();
		clearSession(asStorage(storage));
		expect(storage.getItem(SESSION_KEY)).toBeNull();
	});

	it('signs in with POST /api/session and says why a refusal happened', async () => {
		const calls: Array<[string, RequestInit | undefined]> = [];
		const ok: typeof fetch = async (input, init) => {
			calls.push([String(input), init]);
			return new Response(JSON.stringify({ token: 'abc', user: { id: 'ann1', name: 'Ann' } }), { status: 200 });
		};
		// The answer's token is for non-browser clients: the app keeps the user, the cookie is its credential.
		expect(await signIn('Ann', 'pw', ok)).toEqual({ ok: true, session: { user: { id: 'ann1', name: 'Ann' } } });
		expect(calls[0]![0]).toBe('/api/session');
		expect(calls[0]![1]!.credentials).toBe('same-origin');
		expect(JSON.parse(String(calls[0]![1]!.body))).toEqual({ name: 'Ann', password: 'pw' });

		const refused: typeof fetch = async () => new Response(JSON.stringify({ reason: 'unauthorized' }), { status: 401 });
		expect(await signIn('Ann', 'nope', refused)).toEqual({ ok: false, message: 'That name is taken and the password does not match.' });
		const offline: typeof fetch = async () => {
			throw new TypeError('Failed to fetch');
		};
		expect(await signIn('Ann', 'pw', offline)).toMatchObject({ ok: false, message: expect.stringContaining("Can't reach the server") });
		expect(signInErrorText(429, '7', undefined)).toBe('Too many attempts. Try again in 7 seconds.');
		expect(signInErrorText(400, null, 'name: name is too long')).toBe('Check the form: name is too long.');
	});
});
