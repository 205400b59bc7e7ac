/**
 * `QueueStorage` over localforage: IndexedDB first, localStorage when
 * IndexedDB is missing or refuses to open, or when the app asks for a driver.
 * The layout (db `outbox`, store `queue`, keys `<ns>/q/<id>`) is in
 * `storage-layout.ts`; a service worker reads the same store.
 *
 * Speed (issue 3 wants 10,000 durable adds in < 1 s and a restore in < 300 ms):
 * localforage has no batch or range API, so with IndexedDB this adapter uses
 * the database localforage opened and does every call in ONE transaction —
 * a `write` of 10,000 items is one readwrite transaction with `strict`
 * durability (Chromium's default became `relaxed`, which may lose the last
 * writes on a power cut: not good enough for "durable before `add`
 * resolves"), and `getAll` is one `getAll(keyRange)`. With localStorage it
 * falls back to one localforage call per item and undoes a half-done batch.
 *
 * Every failure becomes a `StorageError`: `quota` for out of space
 * (`QuotaExceededError`, DOMException code 22, an IndexedDB transaction
 * aborted for quota), `unavailable` for the rest (no usable driver, private
 * mode, a closed database).
 */
import localforage from 'localforage';
import type { QueueItem } from '../core/queue-item.js';
import { StorageError, type QueueStorage, type StorageDescription, type StorageWrite } from '../ports.js';
import { DEFAULT_DB_NAME, QUEUE_STORE, itemKey, itemPrefix, metaKey, namespacePrefix } from './storage-layout.js';
import { idbBackend, type IdbOwner } from './idb-backend.js';

export type StorageDriver = 'indexeddb' | 'localstorage' | 'auto';

export interface LocalforageStorageOptions {
	/** Database name (IndexedDB) and key prefix (localStorage). Default `"outbox"`. */
	name?: string;
	/** Force one driver; `auto` (default) tries IndexedDB, then localStorage. */
	driver?: StorageDriver;
}

/** A `QueueStorage` that can also say which driver it ended up on. */
export interface LocalforageQueueStorage extends QueueStorage {
	/** The driver in use once storage opened (rejects with `StorageError` if none works). */
	driver(): Promise<'indexeddb' | 'localstorage'>;
}

/** What one driver offers: whole-key operations, batched where it can. */
export interface StorageBackend {
	readonly driver: 'indexeddb' | 'localstorage';
	getPrefixed(prefix: string): Promise<unknown[]>;
	get(key: string): Promise<unknown>;
	/** Put these entries and delete these keys, together. */
	write(puts: ReadonlyArray<readonly [string, unknown]>, removes: readonly string[]): Promise<void>;
	removePrefixed(prefix: string): Promise<void>;
}

/**
 * Queue storage in the browser.
 *
 * @example
 * const storage = createLocalforageStorage();                         // IndexedDB "outbox"
 * const small = createLocalforageStorage({ driver: 'localstorage' }); // the app asked for localStorage
 * await storage.write(user.id, { put: [item] });                      // durable when this resolves
 * const items = await storage.getAll(user.id);
 */
export function createLocalforageStorage(options: LocalforageStorageOptions = {}): LocalforageQueueStorage {
	const name = options.name ?? DEFAULT_DB_NAME;
	const driver = options.driver ?? 'auto';
	if (typeof name !== 'string' || name === '') throw new TypeError('createLocalforageStorage: name must be a non-empty string');
	if (!['indexeddb', 'localstorage', 'auto'].includes(driver)) {
		throw new TypeError(`createLocalforageStorage: driver must be 'indexeddb', 'localstorage' or 'auto', not ${String(driver)}`);
	}
	const persisted = requestPersistence();
	let opening: Promise<StorageBackend> | null = null;
	const backend = () =>
		(opening ??= openBackend(name, driver).catch((error: unknown) => {
			opening = null; // a later call may find storage usable again
			throw toStorageError(error, 'open');
		}));
	const run = async <T>(what: string, op: (b: StorageBackend) => Promise<T>): Promise<T> => {
		const b = await backend();
		try {
			return await op(b);
		} catch (error) {
			throw toStorageError(error, what);
		}
	};

	return {
		driver: async () => (await backend()).driver,
		getAll: (ns) => run('getAll', async (b) => (await b.getPrefixed(itemPrefix(ns))) as QueueItem[]),
		write: (ns, change) => {
			const { puts, removes } = entriesOf(ns, change);
			return puts.length === 0 && removes.length === 0 ? Promise.resolve() : run('write', (b) => b.write(puts, removes));
		},
		clear: (ns) => run('clear', (b) => b.removePrefixed(namespacePrefix(ns))),
		acceptsFiles: () =>
			backend().then(
				(b) => b.driver === 'indexeddb',
				() => false
			),
		getMeta: (ns, key) => run('getMeta', async (b) => (await b.get(metaKey(ns, key))) ?? null),
		async describe(): Promise<StorageDescription> {
			const driver = await backend().then(
				(b) => b.driver,
				() => null
			);
			return { driver, persisted: await persisted };
		}
	};
}

/** A `StorageWrite` as keyed puts and deletes. */
function entriesOf(ns: string, change: StorageWrite): { puts: Array<readonly [string, unknown]>; removes: string[] } {
	const puts: Array<readonly [string, unknown]> = (change.put ?? []).map((item) => [itemKey(ns, item.id), item] as const);
	const removes = (change.remove ?? []).map((id) => itemKey(ns, id));
	for (const [key, value] of Object.entries(change.meta ?? {})) {
		if (value === null || value === undefined) removes.push(metaKey(ns, key));
		else puts.push([metaKey(ns, key), value]);
	}
	return { puts, removes };
}

async function openBackend(name: string, driver: StorageDriver): Promise<StorageBackend> {
	if (driver === 'localstorage') return open(name, [localforage.LOCALSTORAGE]);
	if (driver === 'indexeddb') return open(name, [localforage.INDEXEDDB]);
	try {
		return await open(name, [localforage.INDEXEDDB, localforage.LOCALSTORAGE]);
	} catch {
		// IndexedDB can exist and still refuse to open (private modes): try localStorage alone.
		return open(name, [localforage.LOCALSTORAGE]);
	}
}

async function open(name: string, drivers: string[]): Promise<StorageBackend> {
	const lf = localforage.createInstance({ name, storeName: QUEUE_STORE, driver: drivers });
	await lf.ready();
	if (lf.driver() === localforage.INDEXEDDB) {
		const owner = lf as unknown as IdbOwner;
		await lf.length(); // makes localforage create the store and open the connection
		if (isDatabase(owner._dbInfo?.db)) return idbBackend(owner, QUEUE_STORE);
	}
	return localforageBackend(lf, lf.driver() === localforage.INDEXEDDB ? 'indexeddb' : 'localstorage');
}

/** One localforage call per key; a batch that fails half-way is undone. */
function localforageBackend(lf: LocalForage, driver: 'indexeddb' | 'localstorage'): StorageBackend {
	const keysWith = async (prefix: string) => (await lf.keys()).filter((key) => key.startsWith(prefix));
	return {
		driver,
		async getPrefixed(prefix) {
			const values: unknown[] = [];
			await lf.iterate((value, key) => void (key.startsWith(prefix) && values.push(value)));
			return values;
		},
		get: (key) => lf.getItem(key),
		async write(puts, removes) {
			const done: Array<readonly [string, unknown]> = [];
			try {
				for (const [key, value] of puts) {
					const previous = await lf.getItem(key);
					await lf.setItem(key, value);
					done.push([key, previous]);
				}
			} catch (error) {
				for (const [key, previous] of done.reverse()) {
					await (previous === null ? lf.removeItem(key) : lf.setItem(key, previous)).catch(() => {});
				}
				throw error;
			}
			for (const key of removes) await lf.removeItem(key);
		},
		async removePrefixed(prefix) {
			for (const key of await keysWith(prefix)) await lf.removeItem(key);
		}
	};
}

function isDatabase(value: unknown): value is IDBDatabase {
	return typeof IDBDatabase !== 'undefined' && value instanceof IDBDatabase;
}

const QUOTA_NAMES = new Set(['QuotaExceededError', 'NS_ERROR_DOM_QUOTA_REACHED']);

/** Any failure as the port's `StorageError`. */
export function toStorageError(error: unknown, what: string): StorageError {
	if (error instanceof StorageError) return error;
	const e = error as { name?: unknown; code?: unknown; message?: unknown } | null;
	const detail = typeof e?.message === 'string' && e.message ? `: ${e.message}` : '';
	if ((typeof e?.name === 'string' && QUOTA_NAMES.has(e.name)) || e?.code === 22 || e?.code === 1014) {
		return new StorageError('quota', `queue storage is full (${what}${detail})`, { cause: error });
	}
	return new StorageError('unavailable', `queue storage is unavailable (${what}${detail})`, { cause: error });
}

let persistence: Promise<boolean | null> | null = null;

/**
 * Ask once per page that the browser not evict our storage. Resolves with
 * its answer (null where it cannot be asked: Node, old browsers, workers);
 * never rejects. Refused is common on a first visit: the app may say so.
 */
function requestPersistence(): Promise<boolean | null> {
	persistence ??= (async () => {
		try {
			const storage = globalThis.navigator?.storage;
			if (typeof storage?.persist !== 'function') return null;
			return (await storage.persisted?.()) || (await storage.persist());
		} catch {
			return null; // not offered here (opaque origins, some privacy modes)
		}
	})();
	return persistence;
}
