/**
 * Who may join which room. Any signed-in user may join an ordinary room;
 * a `dm-` room is the direct conversation `dm-<idA>-<idB>` (ids in
 * ascending string order) and only those two users may join it.
 */
import { DM_SLUG_RE, SLUG_RE } from '../../protocol/index.js';

export type RoomAccess = 'ok' | 'forbidden' | 'invalid';

export function roomAccess(slug: string, userId: string): RoomAccess {
	if (!SLUG_RE.test(slug)) return 'invalid';
	if (!slug.startsWith('dm-')) return 'ok';
	const match = DM_SLUG_RE.exec(slug);
	if (!match) return 'forbidden';
	const [, a, b] = match as unknown as [string, string, string];
	if (!(a < b)) return 'forbidden';
	return userId === a || userId === b ? 'ok' : 'forbidden';
}
