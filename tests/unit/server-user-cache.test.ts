import { describe, expect, it } from 'vitest';
import type { StoredUser } from '../../src/lib/server/store/port.js';
import { cachedUsers, MAX_CACHED_USERS } from '../../src/lib/server/store/user-cache.js';

const user = (id: string): StoredUser => ({ id, name: `name of ${id}`, passwordHash: 'h', createdAt: '2026-01-01T00:00:00.000Z' });

function counting(known: Set<string>) {
	const loads: string[] = [];
	const load = async (id: string) => {
		loads.push(id);
		return known.has(id) ? user(id) : null;
	};
	return { loads, load };
}

describe('cachedUsers', () => {
	it('loads a found user once, and a missing one every time (it may be created later)', async () => {
		const known = new Set(['u1']);
		const { loads, load } = counting(known);
		const find = cachedUsers(load);
		expect(await find('u1')).toEqual(user('u1'));
		expect(await find('u1')).toEqual(user('u1'));
		expect(await find('nobody')).toBeNull();
		known.add('nobody');
		expect(await find('nobody')).toEqual(user('nobody'));
		expect(await find('nobody')).toEqual(user('nobody'));
		expect(loads).toEqual(['u1', 'nobody', 'nobody']);
	});

	it('hands out copies: a caller changing its user does not change the cache', async () => {
		const find = cachedUsers(counting(new Set(['u1'])).load);
		const first = (await find('u1'))!;
		first.name = 'changed';
		expect((await find('u1'))!.name).toBe('name of u1');
	});

	it(`is emptied when it holds its maximum (${MAX_CACHED_USERS.toLocaleString('en')} by default)`, async () => {
		expect(MAX_CACHED_USERS).toBe(100_000);
		const { loads, load } = counting(new Set(['a', 'b', 'c']));
		const find = cachedUsers(load, 2);
		await find('a');
		await find('b');
		await find('a'); // cached
		await find('c'); // full: emptied, then c kept
		await find('c'); // cached
		await find('a'); // loaded again
		expect(loads).toEqual(['a', 'b', 'c', 'a']);
	});
});
