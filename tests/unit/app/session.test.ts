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
	it('keeps {token, user} under outbox:session and ignores anything unreadable', () => {
		const storage = new MemoryStorage();
		const session = { token: 't.k-1', user: { id: 'ann1', name: 'Ann' } };
		saveSession(session, asStorage(storage));
		expect(JSON.parse(storage.getItem(SESSION_KEY)!)).toEqual(session);
		expect(loadSession(asStorage(storage))).toEqual(session);
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
		expect(await signIn('Ann', 'pw', ok)).toEqual({ ok: true, session: { token: 'abc', user: { id: 'ann1', name: 'Ann' } } });
		expect(calls[0]![0]).toBe('/api/session');
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
