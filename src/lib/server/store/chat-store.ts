/**
 * The `ChatStore` port over any driver: each method checks its arguments,
 * then runs the one flow of the rules (`rules.ts`, `apply-actions.ts`) in
 * the driver's transaction of the right kind. The SQLite and PostgreSQL
 * stores are this plus their queries.
 */
import { nameKey, type ChatStore } from './port.js';
import type { StoreDriver } from './queries.js';
import { applyActions } from './apply-actions.js';
import { checkSlug, createUser, historyPage, revokeToken, syncPage } from './rules.js';
import { cachedUsers } from './user-cache.js';

/**
 * @example
 * const store = createChatStore(sqliteDriver(db)); // what createSqliteStore does
 */
export function createChatStore(driver: StoreDriver): ChatStore {
	return {
		findUserByName: (name) => driver.run((q) => q.userByKey(nameKey(name))),
		findUserById: cachedUsers((id) => driver.run((q) => q.userById(id))),
		createUser: (name, passwordHash) => driver.run((q) => createUser(q, name, passwordHash)),

		revokeToken: (tokenId, expiresAtMs) => driver.run((q) => revokeToken(q, tokenId, expiresAtMs)),
		isTokenRevoked: (tokenId) => driver.run((q) => q.isTokenRevoked(tokenId)),

		async ensureRoom(slug) {
			checkSlug(slug);
			await driver.run((q) => q.ensureRoom(slug, new Date().toISOString()));
		},

		async applyActions(author, room, actions) {
			checkSlug(room);
			return driver.write((q) => applyActions(q, author, room, actions));
		},

		sync: (room, userId, since, limit) => driver.read((q) => syncPage(q, room, userId, since, limit)),
		history: (room, before, limit) => driver.read((q) => historyPage(q, room, before, limit)),
		unreadCount: (room, userId) => driver.run((q) => q.unreadCount(room, userId)),
		roomsForUser: (userId) => driver.run((q) => q.roomsForUser(userId)),

		ping: () => driver.ping(),
		close: () => driver.close()
	};
}
