/**
 * `QueueStorage` in memory. Items are stored as JSON copies (as localStorage
 * and IndexedDB would), each `write` is one all-or-nothing transaction, and a test can make it fail: a quota error on writes, or the
 * whole store unavailable. Share one instance between two engines to play
 * two tabs of one browser.
 */
import type { QueueItem } from '../core/queue-item.js';
import type { QueueStorage, StorageDescription, StorageErrorKind, StorageWrite } from '../ports.js';
import { StorageError } from '../ports.js';

export interface MemoryStorageOptions {
	/** Items the store holds over all namespaces before writes fail with `quota` (default: no limit). */
	maxItems?: number;
}

/** Counters for assertions (a batch of writes should be one transaction). */
export interface MemoryStorageStats {
	transactions: number;
	itemsWritten: number;
	itemsRemoved: number;
}

type Failure = { kind: StorageErrorKind; remaining: number };

/**
 * @example
 * const storage = new MemoryStorage();
 * storage.failWith('quota', { times: 1 }); // the next write rejects with StorageError kind 'quota'
 */
export class MemoryStorage implements QueueStorage {
	readonly stats: MemoryStorageStats = { transactions: 0, itemsWritten: 0, itemsRemoved: 0 };
	maxItems: number;
	#data = new Map<string, Map<string, string>>();
	#meta = new Map<string, Map<string, string>>();
	#failure: Failure | null = null;

	constructor(options: MemoryStorageOptions = {}) {
		this.maxItems = options.maxItems ?? Infinity;
	}

	/**
	 * Make operations fail: `quota` fails writes (puts and meta sets), `unavailable`
	 * fails everything. `times` limits how many operations fail (default: until `failWith(null)`).
	 */
	failWith(kind: StorageErrorKind | null, options: { times?: number } = {}): void {
		this.#failure = kind === null ? null : { kind, remaining: options.times ?? Infinity };
	}

	async getAll(namespace: string): Promise<QueueItem[]> {
		this.#check('read');
		return [...(this.#data.get(namespace)?.values() ?? [])].map((json) => JSON.parse(json) as QueueItem);
	}

	async write(namespace: string, change: StorageWrite): Promise<void> {
		const puts = change.put ?? [];
		const removes = change.remove ?? [];
		const meta = Object.entries(change.meta ?? {});
		const writes = puts.length > 0 || meta.some(([, value]) => value !== null && value !== undefined);
		this.#check(writes ? 'write' : 'remove');
		const store = this.#data.get(namespace) ?? new Map<string, string>();
		const fresh = new Set<string>();
		for (const item of puts) if (!store.has(item.id)) fresh.add(item.id);
		if (this.#total() + fresh.size > this.maxItems) {
			throw new StorageError('quota', `memory storage is full (${this.maxItems} items)`);
		}
		const encoded = puts.map((item) => [item.id, JSON.stringify(item)] as const);
		for (const [id, json] of encoded) store.set(id, json);
		for (const id of removes) if (store.delete(id)) this.stats.itemsRemoved++;
		this.#data.set(namespace, store);
		const metaStore = this.#meta.get(namespace) ?? new Map<string, string>();
		for (const [key, value] of meta) {
			if (value === null || value === undefined) metaStore.delete(key);
			else metaStore.set(key, JSON.stringify(value));
		}
		this.#meta.set(namespace, metaStore);
		this.stats.transactions++;
		this.stats.itemsWritten += puts.length;
	}

	async clear(namespace: string): Promise<void> {
		this.#check('remove');
		this.#data.delete(namespace);
		this.#meta.delete(namespace);
		this.stats.transactions++;
	}

	async getMeta(namespace: string, key: string): Promise<unknown> {
		this.#check('read');
		const json = this.#meta.get(namespace)?.get(key);
		return json === undefined ? null : JSON.parse(json);
	}

	/** What `describe()` answers (a test sets `persisted: false` to play a browser that refused persistence). */
	description: StorageDescription = { driver: 'memory', persisted: true };

	async describe(): Promise<StorageDescription> {
		return { ...this.description };
	}

	/** What a namespace holds now, synchronously, sorted by id (for assertions). */
	snapshot(namespace: string): QueueItem[] {
		return [...(this.#data.get(namespace)?.values() ?? [])]
			.map((json) => JSON.parse(json) as QueueItem)
			.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
	}

	/** Namespaces holding at least one item. */
	namespaces(): string[] {
		return [...this.#data.keys()].filter((ns) => (this.#data.get(ns)?.size ?? 0) > 0);
	}

	#total(): number {
		let n = 0;
		for (const store of this.#data.values()) n += store.size;
		return n;
	}

	#check(op: 'read' | 'write' | 'remove'): void {
		const failure = this.#failure;
		if (!failure) return;
		if (failure.kind === 'quota' && op !== 'write') return;
		if (--failure.remaining <= 0) this.#failure = null;
		throw new StorageError(
			failure.kind,
			failure.kind === 'quota' ? 'memory storage: quota exceeded (told to fail)' : 'memory storage: unavailable (told to fail)'
		);
	}
}
