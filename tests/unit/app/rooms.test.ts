import { describe, expect, it } from 'vitest';
import { directSlug, dmPartner, mergeRooms, roomAccess } from '../../../src/lib/app/rooms.js';

describe('app rooms', () => {
	it('decides access to a direct conversation as the server does', () => {
		expect(roomAccess('lobby', 'ann1')).toBe('ok');
		expect(roomAccess('dm-ann1-bob2', 'ann1')).toBe('ok');
		expect(roomAccess('dm-ann1-bob2', 'bob2')).toBe('ok');
		expect(roomAccess('dm-ann1-bob2', 'cat3')).toBe('forbidden');
		expect(roomAccess('dm-bob2-ann1', 'ann1')).toBe('forbidden'); // ids not in ascending order
		expect(roomAccess('dm-ann1', 'ann1')).toBe('forbidden');
	});

	it('builds the direct conversation slug in ascending id order and refuses nonsense ids', () => {
		expect(directSlug('bob2', ' @Ann1 ')).toEqual({ slug: 'dm-ann1-bob2' });
		expect(directSlug('ann1', 'bob2')).toEqual({ slug: 'dm-ann1-bob2' });
		expect(directSlug('ann1', 'ann1')).toHaveProperty('error');
		expect(directSlug('ann1', 'bob-2')).toHaveProperty('error');
		expect(dmPartner('dm-ann1-bob2', 'bob2')).toBe('ann1');
		expect(dmPartner('dm-ann1-bob2', 'cat3')).toBeNull();
	});

	it('lists lobby first, then rooms, then direct conversations labelled by name; the open room reads 0 unread', () => {
		const server = [
			{ slug: 'zeta', unread_count: 4, last_seq: 9 },
			{ slug: 'alpha', unread_count: 2, last_seq: 3 },
			{ slug: 'dm-ann1-bob2', unread_count: 1, last_seq: 1 }
		];
		const list = mergeRooms(server, ['visited', 'dm-bob2-cat3'], 'alpha', 'ann1', { bob2: 'Bob' });
		expect(list).toEqual([
			{ slug: 'lobby', unread_count: 0 },
			{ slug: 'alpha', unread_count: 0 },
			{ slug: 'visited', unread_count: 0 },
			{ slug: 'zeta', unread_count: 4 },
			{ slug: 'dm-ann1-bob2', unread_count: 1, label: '@ Bob' }
		]);
	});
});
