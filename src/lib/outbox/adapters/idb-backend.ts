/**
 * Batched IndexedDB access for the localforage storage adapter: each call is
 * ONE transaction on the database localforage opened (localforage itself has
 * no batch or range API). Values are written exactly as localforage writes
 * them (the object itself, out-of-line key), so localforage, this backend and
 * a service worker all read the same entries.
 *
 * localforage closes its connection when another tab upgrades the database
 * (`versionchange`); a transaction that then fails with `InvalidStateError`
 * lets localforage reconnect and is tried once more.
 */
import type { StorageBackend } from './localforage-storage.js';
import { prefixRange } from './storage-layout.js';

/** The part of a localforage instance this backend relies on. */
export interface IdbOwner {
	_dbInfo?: { db?: IDBDatabase | null };
	/** Any localforage call reconnects a closed database; `length()` is the cheapest. */
	length(): Promise<number>;
}

type Mode = 'readonly' | 'readwrite';

/**
 * A `StorageBackend` over localforage's IndexedDB connection.
 *
 * @example
 * const lf = localforage.createInstance({ name: 'outbox', storeName: 'queue', driver: localforage.INDEXEDDB });
 * await lf.length();
 * const backend = idbBackend(lf as unknown as IdbOwner, 'queue');
 * await backend.write([['u1/q/a', itemA], ['u1/q/b', itemB]], ['u1/q/c']); // one transaction
 */
export function idbBackend(owner: IdbOwner, storeName: string): StorageBackend {
	async function transaction<T>(mode: Mode, work: (store: IDBObjectStore) => IDBRequest<T> | void): Promise<T | undefined> {
		let tx: IDBTransaction;
		try {
			tx = begin(owner, storeName, mode);
		} catch (error) {
			if (!isReconnectable(error)) throw error;
			await owner.length(); // localforage reopens the connection
			tx = begin(owner, storeName, mode);
		}
		return new Promise<T | undefined>((resolve, reject) => {
			let result: T | undefined;
			tx.oncomplete = () => resolve(result);
			// A failed request aborts the whole transaction: nothing of the batch is written.
			tx.onabort = () => reject(tx.error ?? new DOMException('transaction aborted', 'AbortError'));
			try {
				const request = work(tx.objectStore(storeName));
				if (request) request.onsuccess = () => void (result = request.result);
			} catch (error) {
				// A value that cannot be cloned throws synchronously; do not commit the puts before it.
				tx.onabort = () => reject(error);
				tx.abort();
			}
		});
	}

	const range = (prefix: string) => {
		const { lower, upper } = prefixRange(prefix);
		return IDBKeyRange.bound(lower, upper);
	};

	return {
		driver: 'indexeddb',
		async getPrefixed(prefix) {
			return (await transaction('readonly', (store) => store.getAll(range(prefix)))) ?? [];
		},
		async get(key) {
			return (await transaction('readonly', (store) => store.get(key))) ?? null;
		},
		async write(puts, removes) {
			await transaction('readwrite', (store) => {
				for (const [key, value] of puts) store.put(value, key);
				if (removes.length < RANGE_DELETE_FROM) {
					for (const key of removes) store.delete(key);
					return;
				}
				// Many removes (a confirmed batch): read the keys stored between the first and the
				// last, in this transaction (no other write can come between), and delete each run
				// of wanted keys with one ranged request instead of one request per key.
				const wanted = new Set(removes);
				const sorted = [...wanted].sort();
				const keys = store.getAllKeys(IDBKeyRange.bound(sorted[0], sorted[sorted.length - 1]));
				keys.onsuccess = () => {
					for (const [lower, upper] of wantedRuns(keys.result as string[], wanted)) {
						store.delete(lower === upper ? lower : IDBKeyRange.bound(lower, upper));
					}
				};
			});
		},
		async removePrefixed(prefix) {
			await transaction('readwrite', (store) => store.delete(range(prefix)));
		}
	};
}

/** From this many keys to remove in one write, they are deleted by ranges (one request per run). */
export const RANGE_DELETE_FROM = 8;

/**
 * The runs of consecutive `stored` keys (in key order) that are all `wanted`,
 * as `[first, last]`: deleting those ranges deletes exactly the wanted keys
 * that are stored, and nothing else.
 *
 * @example
 * wantedRuns(['a', 'b', 'c', 'd'], new Set(['a', 'b', 'd'])) // [['a', 'b'], ['d', 'd']]
 */
export function wantedRuns(stored: readonly string[], wanted: ReadonlySet<string>): Array<[string, string]> {
	const runs: Array<[string, string]> = [];
	let run: [string, string] | null = null;
	for (const key of stored) {
		if (!wanted.has(key)) {
			run = null;
			continue;
		}
		if (run) run[1] = key;
		else runs.push((run = [key, key]));
	}
	return runs;
}

function begin(owner: IdbOwner, storeName: string, mode: Mode): IDBTransaction {
	const db = owner._dbInfo?.db;
	if (!db) throw new DOMException('the database connection is closed', 'InvalidStateError');
	// `strict`: the transaction completes only once the data is flushed to disk.
	return mode === 'readwrite' ? db.transaction(storeName, mode, { durability: 'strict' }) : db.transaction(storeName, mode);
}

function isReconnectable(error: unknown): boolean {
	const name = (error as { name?: unknown } | null)?.name;
	return name === 'InvalidStateError' || name === 'NotFoundError';
}
