/**
 * Users by id, looked up once per process. A user row never changes and is
 * never deleted (the store has no such statement), so a found user needs no
 * invalidation; a miss is not kept (the id may be created later). Every
 * socket connect and every HTTP call signed in with a token looks its user
 * up, and in a cluster each lookup is a PostgreSQL round trip.
 */
import type { StoredUser } from './port.js';

/** Users kept per process; the cache is emptied when it reaches this many (a bound, not a policy). */
export const MAX_CACHED_USERS = 100_000;

/**
 * @example
 * const findUserById = cachedUsers((id) => driver.run((q) => q.userById(id)));
 */
export function cachedUsers(
	load: (id: string) => Promise<StoredUser | null>,
	max = MAX_CACHED_USERS
): (id: string) => Promise<StoredUser | null> {
	const users = new Map<string, StoredUser>();
	return async (id) => {
		const known = users.get(id);
		if (known) return { ...known };
		const user = await load(id);
		if (!user) return null;
		if (users.size >= max) users.clear();
		users.set(id, user);
		return { ...user };
	};
}
