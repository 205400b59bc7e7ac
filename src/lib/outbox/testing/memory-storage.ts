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
	/** The Blobs of stored items (by namespace and id), kept by reference as IndexedDB keeps them. */
	#blobs = new Map<string, Blob[]>();
	/** Whether items may carry files (false plays localStorage, which cannot). */
	filesAccepted = true;

	async acceptsFiles(): Promise<boolean> {
		return this.filesAccepted;
	}

	#encode(namespace: string, item: QueueItem): string {
		const blobs: Blob[] = [];
		const json = JSON.stringify(item, (_key, value: unknown) => (value instanceof Blob ? { __blob: blobs.push(value) - 1 } : value));
		const key = `${namespace}\u0000${item.id}`;
		if (blobs.length > 0) this.#blobs.set(key, blobs);
		else this.#blobs.delete(key);
		return json;
	}

	#decode(namespace: string, json: string): QueueItem {
		let blobs: Blob[] | undefined;
		return JSON.parse(json, (_key, value: unknown) => {
			if (value !== null && typeof value === 'object' && typeof (value as { __blob?: unknown }).__blob === 'number') {
				blobs ??= this.#blobs.get(`${namespace}\u0000${(JSON.parse(json) as { id: string }).id}`) ?? [];
				return blobs[(value as { __blob: number }).__blob];
			}
			return value;
		}) as QueueItem;
	}

	/** How many Blobs the store holds now (files of items not removed). */
	blobCount(): number {
		let n = 0;
		for (const blobs of this.#blobs.values()) n += blobs.length;
		return n;
	}

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
		return [...(this.#data.get(namespace)?.values() ?? [])].map((json) => this.#decode(namespace, json));
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
		const encoded = puts.map((item) => [item.id, this.#encode(namespace, item)] as const);
		for (const [id, json] of encoded) store.set(id, json);
		for (const id of removes) {
			this.#blobs.delete(`${namespace}\u0000${id}`);
			if (store.delete(id)) this.stats.itemsRemoved++;
		}
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
		for (const key of [...this.#blobs.keys()]) if (key.startsWith(`${namespace}\u0000`)) this.#blobs.delete(key);
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
			.map((json) => this.#decode(namespace, json))
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
