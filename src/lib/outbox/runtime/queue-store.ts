/**
 * The queue as the engine holds it: the core's state, its persistence and
 * its notifications, for one user namespace at a time.
 *
 * Every change goes through `apply` (the core reducer); the ids it changed
 * are written to storage (puts and removes made together are grouped, one
 * write at a time, in order), then its events are emitted and the change is
 * broadcast to the other tabs. A `sending` mark is shown to the other tabs
 * but not written: storage keeps the item `queued`, which is what a reload or
 * a new leader makes of `sending` anyway, so a send costs no write of its own. New actions go the other way round (`enqueue`):
 * written first (adds made in the same tick share one `write`), then
 * reduced, so `add` resolves only once the action is durable, and a refused
 * write (quota) leaves the queue as it was.
 *
 * All storage work runs on one serial task chain, so a user switch or a
 * leader take-over never interleaves with a write of the old state.
 */
import type { OutboxEvent } from '../core/events.js';
import type { QueueAction, QueueResult } from '../core/queue.js';
import { reduceQueue } from '../core/queue.js';
import type { QueueItem } from '../core/queue-item.js';
import type { QueueState } from '../core/queue-state.js';
import { createQueueState, listItems } from '../core/queue-state.js';
import type { RetryOptions } from '../core/retry-policy.js';
import type { QueueStorage, TabCoordinator } from '../ports.js';
import { ComputedValue } from './observable.js';

/** The subscribable list: every item in creation order, and counts. */
export interface QueueSnapshot {
	readonly items: readonly QueueItem[];
	readonly count: number;
	readonly counts: Readonly<Record<QueueItem['status'], number>>;
}

export interface QueueStoreHooks {
	storage: QueueStorage;
	tabs: TabCoordinator;
	policy: Partial<RetryOptions>;
	/** Emit reducer events (after their writes). */
	emit(events: readonly OutboxEvent[]): void;
	/** A write or read failed (a `StorageError`, by the port's contract). */
	storageFailed(error: unknown): void;
	/** A write went through (clears a quota error state). */
	storageOk(): void;
	/** The queue changed (in memory): wake the loop, refresh views. */
	changed(result: QueueResult | null): void;
}

interface PendingAdd {
	item: QueueItem;
	namespace: string;
	resolve(): void;
	reject(error: unknown): void;
}

export class QueueStore {
	state: QueueState;
	namespace: string | null = null;
	readonly snapshot: ComputedValue<QueueSnapshot>;
	#hooks: QueueStoreHooks;
	#chain: Promise<unknown> = Promise.resolve();
	#dirty = new Set<string>();
	/** Ids whose only change since the last write is a `sending` mark: broadcast, not written. */
	#marked = new Set<string>();
	#events: OutboxEvent[] = [];
	#writeScheduled = false;
	#writing = false;
	#adds: PendingAdd[] = [];
	#addsScheduled = false;
	/** Adds with a dedupe key, from `enqueue` until they are in the queue (or refused). */
	#storing = new Map<string, Promise<QueueItem>>();
	/** The last list in creation order, and whether an item may have joined the queue since (then it is sorted again). */
	#list: readonly QueueItem[] | null = null;
	#newIds = true;
	/** Ok replies of confirmed items not yet told to the other tabs (their `settled()` resolves with them). */
	#replies = new Map<string, unknown>();

	constructor(hooks: QueueStoreHooks) {
		this.#hooks = hooks;
		this.state = createQueueState(hooks.policy);
		this.snapshot = new ComputedValue<QueueSnapshot>(() => ({
			items: this.#orderedItems(),
			count: this.state.items.size,
			counts: { ...this.state.counts }
		}));
	}

	/** Run `task` after every storage task queued before it. */
	run<T>(task: () => Promise<T> | T): Promise<T> {
		const result = this.#chain.then(task);
		this.#chain = result.then(noop, noop);
		return result;
	}

	/**
	 * Every item in creation order. Only `added`, `restored` and `replicated`
	 * bring ids in; other changes keep the order, so the last list is reused
	 * (each item looked up again) instead of sorted again: a queue of 10,000
	 * draining by batches would otherwise be sorted once per change.
	 */
	#orderedItems(): readonly QueueItem[] {
		const previous = this.#list;
		let list: QueueItem[];
		if (previous === null || this.#newIds) {
			list = listItems(this.state);
		} else {
			list = [];
			for (const { id } of previous) {
				const item = this.state.items.get(id);
				if (item) list.push(item);
			}
		}
		this.#list = list;
		this.#newIds = false;
		return list;
	}

	/** Reduce one action; by default persist its changes, then emit and broadcast. */
	apply(action: QueueAction, options: { persist?: boolean } = {}): QueueResult {
		const result = reduceQueue(this.state, action);
		if (action.type === 'restored' || action.type === 'replicated' || action.type === 'added') this.#newIds = true;
		const writes = options.persist !== false && (result.changed.length > 0 || result.removed.length > 0);
		if (writes && action.type === 'succeeded') this.#replies.set(action.id, action.response);
		const marks = action.type === 'sendStarted' ? this.#marked : this.#dirty;
		for (const id of writes ? result.changed : []) if (!this.#dirty.has(id)) marks.add(id);
		for (const id of writes ? result.removed : []) this.#dirty.add(id);
		// Events wait for their writes, and never overtake events still waiting for theirs.
		if (writes || this.#writeScheduled || this.#writing) {
			this.#events.push(...result.events);
			this.#scheduleWrite();
		} else {
			this.#hooks.emit(result.events);
		}
		if (result.changed.length > 0 || result.removed.length > 0 || result.events.length > 0) this.#notify(result);
		return result;
	}

	/** The item (queued, sending or failed, or being stored now) that carries `dedupeKey`, if any. */
	findByDedupeKey(dedupeKey: string): Promise<QueueItem> | undefined {
		const id = this.state.dedupe.get(dedupeKey);
		const item = id === undefined ? undefined : this.state.items.get(id);
		if (item) return Promise.resolve(item);
		return this.#storing.get(dedupeKey);
	}

	/** Persist a new item (grouped with the others added this tick), then reduce `added`. */
	enqueue(item: QueueItem): Promise<void> {
		const namespace = this.namespace;
		if (namespace === null) return Promise.reject(new Error('add: no user is set; call outbox.setUser(user) first'));
		const stored = this.#store(item, namespace);
		const key = item.dedupeKey;
		if (key !== undefined) {
			const same = stored.then(() => item);
			same.catch(() => {}); // its callers (a second add with the key) see the rejection; no one else must
			this.#storing.set(key, same);
			const forget = () => void this.#storing.delete(key);
			stored.then(forget, forget);
		}
		return stored;
	}

	#store(item: QueueItem, namespace: string): Promise<void> {
		return new Promise((resolve, reject) => {
			this.#adds.push({ item, namespace, resolve, reject });
			if (this.#addsScheduled) return;
			this.#addsScheduled = true;
			queueMicrotask(() => {
				this.#addsScheduled = false;
				const batch = this.#adds.splice(0);
				void this.run(() => this.#writeAdds(batch));
			});
		});
	}

	/**
	 * Switch to `namespace` (null: no user): wait for earlier writes, then load
	 * its items. Only the leader writes back what `restored` changed.
	 */
	load(namespace: string | null, options: { persist: boolean }): Promise<void> {
		return this.run(async () => {
			this.state = createQueueState(this.#hooks.policy);
			this.#newIds = true;
			this.namespace = namespace;
			this.#dirty.clear();
			this.#marked.clear();
			this.#events = [];
			this.#replies.clear();
			this.#notify(null);
			if (namespace === null) return;
			try {
				const items = await this.#hooks.storage.getAll(namespace);
				if (this.namespace === namespace) this.apply({ type: 'restored', items }, options);
			} catch (error) {
				this.#hooks.storageFailed(error);
			}
		});
	}

	/**
	 * This tab became the leader, or stopped being it: storage is the truth
	 * (a leader writes before it broadcasts). Items in flight come back `queued`.
	 * Resolves with the topics of items that left meanwhile unheard (settled by
	 * another tab, their replies maybe missed): their views should sync.
	 */
	takeOver(): Promise<string[]> {
		return this.run(async () => {
			const namespace = this.namespace;
			if (namespace === null) return [];
			try {
				const stored = await this.#hooks.storage.getAll(namespace);
				if (this.namespace !== namespace) return [];
				const ids = new Set(stored.map((item) => item.id));
				const removedIds = [...this.state.items.keys()].filter((id) => !ids.has(id));
				const topics = new Set(removedIds.map((id) => (this.state.items.get(id) as QueueItem).topic));
				const items = stored.map((item) => (item.status === 'sending' ? { ...item, status: 'queued' as const } : item));
				this.apply({ type: 'replicated', items, removedIds }, { persist: false });
				return [...topics];
			} catch (error) {
				this.#hooks.storageFailed(error);
				return [];
			}
		});
	}

	/** Resolves once every write queued so far is done. */
	drain(): Promise<void> {
		return this.run(noop);
	}

	/** A small JSON value stored beside a user's queue, or null; read after the storage work queued before (a user's load). */
	getMeta(namespace: string, key: string): Promise<unknown> {
		return this.run(() => this.#hooks.storage.getMeta(namespace, key));
	}

	/** Store a small JSON value beside a user's queue (null deletes it), after the storage work queued before. */
	setMeta(namespace: string, key: string, value: unknown): Promise<void> {
		return this.run(() => this.#hooks.storage.write(namespace, { meta: { [key]: value ?? null } }));
	}

	async #writeAdds(batch: PendingAdd[]): Promise<void> {
		const namespace = this.namespace;
		const stale = batch.filter((add) => add.namespace !== namespace);
		for (const add of stale) add.reject(new Error('add: the user changed before the action was stored; it was not queued'));
		const fresh = batch.filter((add) => add.namespace === namespace);
		if (fresh.length === 0 || namespace === null) return;
		const items = fresh.map((add) => add.item);
		try {
			await this.#hooks.storage.write(namespace, { put: items });
		} catch (error) {
			this.#hooks.storageFailed(error);
			for (const add of fresh) add.reject(error);
			return;
		}
		this.#hooks.storageOk();
		const result = reduceQueue(this.state, { type: 'added', items });
		this.#newIds = true;
		this.#notify(result);
		this.#hooks.emit(result.events);
		this.#hooks.tabs.broadcast({ kind: 'queue-changed', namespace, items, removedIds: [] });
		for (const add of fresh) add.resolve();
	}

	#scheduleWrite(): void {
		if (this.#writeScheduled) return;
		this.#writeScheduled = true;
		void this.run(() => this.#write());
	}

	async #write(): Promise<void> {
		this.#writeScheduled = false;
		this.#writing = true;
		try {
			await this.#writeDirty();
		} finally {
			this.#writing = false;
		}
	}

	async #writeDirty(): Promise<void> {
		const namespace = this.namespace;
		const ids = [...this.#dirty];
		const marked = [...this.#marked].filter((id) => !this.#dirty.has(id));
		const events = this.#events;
		this.#dirty.clear();
		this.#marked.clear();
		this.#events = [];
		if (namespace === null) return;
		let replies: Record<string, unknown> | undefined;
		const puts: QueueItem[] = [];
		const removedIds: string[] = [];
		for (const id of ids) {
			const item = this.state.items.get(id);
			if (item) puts.push(item);
			else {
				removedIds.push(id);
				if (this.#replies.has(id)) {
					(replies ??= {})[id] = this.#replies.get(id);
					this.#replies.delete(id);
				}
			}
		}
		const shown: QueueItem[] = [];
		// Only the leader shows its `sending` marks: a tab that resumed past its lease must not
		// tell the others that items the new leader has since confirmed are in flight again.
		if (this.#hooks.tabs.isLeader()) for (const id of marked) {
			const item = this.state.items.get(id);
			if (item) shown.push(item);
		}
		try {
			if (puts.length > 0 || removedIds.length > 0) {
				await this.#hooks.storage.write(namespace, { put: puts, remove: removedIds });
				this.#hooks.storageOk();
			}
		} catch (error) {
			// Keep them dirty: the next change writes them again. The events still
			// go out, since the queue in memory did change.
			if (this.namespace === namespace) for (const id of ids) this.#dirty.add(id);
			this.#hooks.storageFailed(error);
		}
		this.#hooks.emit(events);
		if (ids.length + shown.length > 0) {
			this.#hooks.tabs.broadcast({ kind: 'queue-changed', namespace, items: [...puts, ...shown], removedIds, ...(replies ? { replies } : {}) });
		}
	}

	#notify(result: QueueResult | null): void {
		this.snapshot.invalidate();
		this.#hooks.changed(result);
	}
}

function noop(): void {}
