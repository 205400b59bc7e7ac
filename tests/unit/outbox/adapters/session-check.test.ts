import { afterEach, describe, expect, it, vi } from 'vitest';
import { fetchSessionCheck } from '../../../../src/lib/outbox/adapters/session-check.js';

afterEach(() => vi.unstubAllGlobals());

describe('fetchSessionCheck', () => {
	const answer = (status: number) => vi.fn(async () => new Response(null, { status }));

	it.each([
		[200, 'ok'],
		[401, 'unauthorized'],
		[403, 'unauthorized'],
		[502, 'unreachable']
	] as const)('HTTP %i means %s', async (status, result) => {
		const fetch = answer(status);
		vi.stubGlobal('fetch', fetch);
		expect(await fetchSessionCheck('/api/session', () => 'tok')()).toBe(result);
		expect(fetch).toHaveBeenCalledWith('/api/session', expect.objectContaining({ headers: { authorization: 'Bearer tok' } }));
	});

	it('a network failure is unreachable, and no token is unauthorized without asking', async () => {
		const failing = vi.fn(async () => {
			throw new TypeError('Failed to fetch');
		});
		vi.stubGlobal('fetch', failing);
		expect(await fetchSessionCheck('/api/session', () => 'tok')()).toBe('unreachable');
		failing.mockClear();
		expect(await fetchSessionCheck('/api/session', () => null)()).toBe('unauthorized');
		expect(failing).not.toHaveBeenCalled();
	});
});
