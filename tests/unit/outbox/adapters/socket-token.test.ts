import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createSocketTokenSource } from '../../../../src/lib/outbox/adapters/socket-token.js';

/** A fake endpoint: answers queued responses in order, records each call. */
function endpoint(...answers: Array<() => Response>) {
	const calls: RequestInit[] = [];
	const fetch = (async (_url: string, init: RequestInit) => {
		calls.push(init);
		const next = answers.shift();
		if (!next) throw new TypeError('Failed to fetch');
		return next();
	}) as unknown as typeof globalThis.fetch;
	return { fetch, calls };
}
const tokenAnswer = (token: string, lifeMs: number, userId = 'ann1') => () =>
	new Response(JSON.stringify({ token, expires_at: new Date(Date.now() + lifeMs).toISOString(), user: { id: userId, name: 'Ann' } }), { status: 200 });

describe('createSocketTokenSource', () => {
	beforeEach(() => void vi.useFakeTimers({ now: 1_000_000 }));
	afterEach(() => void vi.useRealTimers());

	it('fetches with the cookie (POST, same-origin, no-store), holds the token until it expires, and refreshes at 80 % of its life', async () => {
		const api = endpoint(tokenAnswer('s1.a', 10_000), tokenAnswer('s1.b', 10_000));
		const source = createSocketTokenSource({ url: '/api/socket-token', fetch: api.fetch });
		expect(source.current()).toBeNull();
		expect(await source.refresh()).toBe('ok');
		expect(api.calls[0]).toMatchObject({ method: 'POST', credentials: 'same-origin', cache: 'no-store' });
		expect(source.current()).toBe('s1.a');
		await vi.advanceTimersByTimeAsync(7_900);
		expect(api.calls).toHaveLength(1);
		await vi.advanceTimersByTimeAsync(200);
		expect(api.calls).toHaveLength(2);
		expect(source.current()).toBe('s1.b');
		source.clear();
		expect(source.current()).toBeNull();
	});

	it('never hands out an expired token; a failed refresh (offline) is tried again', async () => {
		const api = endpoint(tokenAnswer('s1.a', 1_000));
		const source = createSocketTokenSource({ url: '/t', fetch: api.fetch, retryMs: 2_000 });
		await source.refresh();
		await vi.advanceTimersByTimeAsync(800); // the refresh at 80 % fails: offline
		expect(api.calls).toHaveLength(2);
		await vi.advanceTimersByTimeAsync(200);
		expect(source.current()).toBeNull();
		await vi.advanceTimersByTimeAsync(2_000);
		expect(api.calls).toHaveLength(3);
	});

	it("is 'unauthorized' for a refused cookie and for a token naming another user; 'unreachable' for a server error or a malformed answer", async () => {
		const refused = createSocketTokenSource({ url: '/t', fetch: endpoint(() => new Response('{}', { status: 401 })).fetch });
		expect(await refused.refresh()).toBe('unauthorized');
		const other = createSocketTokenSource({ url: '/t', fetch: endpoint(tokenAnswer('s1.bob', 10_000, 'bob1')).fetch, expectedUser: () => 'ann1' });
		expect(await other.refresh()).toBe('unauthorized');
		expect(other.current()).toBeNull();
		const broken = createSocketTokenSource({ url: '/t', fetch: endpoint(() => new Response('oops', { status: 502 })).fetch });
		expect(await broken.refresh()).toBe('unreachable');
		const odd = createSocketTokenSource({ url: '/t', fetch: endpoint(tokenAnswer('has space', 10_000)).fetch });
		expect(await odd.refresh()).toBe('unreachable');
		expect(odd.current()).toBeNull();
	});

	it('shares one request between calls made while it runs, and drops an answer that comes after clear()', async () => {
		const api = endpoint(tokenAnswer('s1.a', 10_000));
		const source = createSocketTokenSource({ url: '/t', fetch: api.fetch });
		const [first, second] = [source.refresh(), source.refresh()];
		source.clear();
		expect(await first).toBe('unreachable');
		expect(await second).toBe('unreachable');
		expect(api.calls).toHaveLength(1);
		expect(source.current()).toBeNull();
	});
});
