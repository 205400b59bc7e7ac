/**
 * Where the queue lives in the browser: one layout, shared by the
 * localforage storage adapter and anything else that reads the queue (a
 * service worker flushing it while no tab is open). Change it only with a
 * migration: stored queues outlive the code that wrote them.
 *
 * IndexedDB (the default driver):
 *   database `<name>` (default `"outbox"`, opened by localforage, version 1),
 *   object store `"queue"` with out-of-line string keys; values are the plain
 *   JSON objects themselves (structured clone), one per key:
 *     `<ns>/q/<itemId>`  -> QueueItem (DESIGN.md "Queue item")
 *     `<ns>/m/<metaKey>` -> a small JSON value an app keeps per user
 *       (`outbox.meta`), such as a topic's snapshot for a reload offline
 *   `<ns>` is `encodeURIComponent(namespace)`, the signed-in user's id, so a
 *   key range `[<ns>/q/, <ns>/q/\uffff]` holds exactly one user's items.
 *   (localforage also keeps an empty `local-forage-detect-blob-support` store.)
 *
 * localStorage (fallback): key `<name>/queue/<same key>`, value
 * `JSON.stringify(value)` (localforage's own format).
 *
 * @example
 * // In a service worker: read user u1's queue.
 * const db = await new Promise((ok, fail) => { const r = indexedDB.open('outbox'); r.onsuccess = () => ok(r.result); r.onerror = fail; });
 * const range = itemRange('u1');
 * const req = db.transaction(QUEUE_STORE).objectStore(QUEUE_STORE).getAll(IDBKeyRange.bound(range.lower, range.upper));
 */

/** Default database name (IndexedDB) and key prefix (localStorage). */
export const DEFAULT_DB_NAME = 'outbox';

/** The IndexedDB object store that holds every namespace's items and meta values. */
export const QUEUE_STORE = 'queue';

/** Highest BMP code unit: every key that starts with a prefix sorts below `prefix + KEY_END`. */
const KEY_END = '\uffff';

function namespacePart(namespace: string): string {
	if (typeof namespace !== 'string' || namespace === '') {
		throw new TypeError('a queue namespace must be a non-empty string (the signed-in user id)');
	}
	return encodeURIComponent(namespace);
}

/** The prefix of every key of a namespace (items and meta). */
export function namespacePrefix(namespace: string): string {
	return `${namespacePart(namespace)}/`;
}

/** The key of one queue item. */
export function itemKey(namespace: string, itemId: string): string {
	return `${namespacePart(namespace)}/q/${itemId}`;
}

/** The key of one meta value. */
export function metaKey(namespace: string, key: string): string {
	return `${namespacePart(namespace)}/m/${key}`;
}

/** The prefix of a namespace's item keys. */
export function itemPrefix(namespace: string): string {
	return `${namespacePart(namespace)}/q/`;
}

/** Bounds of a key range holding exactly the keys that start with `prefix`. */
export function prefixRange(prefix: string): { lower: string; upper: string } {
	return { lower: prefix, upper: prefix + KEY_END };
}

/** Bounds of the key range of one namespace's items (for `IDBKeyRange.bound`). */
export function itemRange(namespace: string): { lower: string; upper: string } {
	return prefixRange(itemPrefix(namespace));
}
