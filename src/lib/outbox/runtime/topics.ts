/**
 * Topics: the public face of one Phoenix topic for an app or a preset built
 * on the kit. A `Topic` keeps the topic joined while it is held, hands out
 * the server's pushes by event, sends plain (unqueued) requests, lists the
 * topic's queue items, builds an optimistic view (confirmed state with the
 * pending actions applied), and runs the topic's sync routines when the kit's
 * reconnect effect, a conflict or `outbox.sync()` asks for a sync.
 *
 * @example
 * const list = outbox.topic('list:groceries');
 * const release = list.hold();                             // joined until released
 * list.on('item_changed', ({ item }) => confirmed.upsert(item));
 * list.onSync(async () => confirmed.replace((await list.request('fetch', {})).response));
 * const view = list.view(confirmed);                        // Observable: confirmed + pending
 */
import type { QueueItem } from '../core/queue-item.js';
import { itemsOfTopic } from '../core/queue-state.js';
import { failedViewOf } from '../core/reconcile.js';
import type { ChannelState, PushResult, Transport, Unsubscribe } from '../ports.js';
import type { ActionRegistry, OptimisticContext } from './action-registry.js';
import type { Observable } from './observable.js';
import { ComputedValue, DerivedValue } from './observable.js';
import type { QueueStore } from './queue-store.js';
import type { TopicJoins } from './topic-joins.js';

/** A sync routine: resolves true (or nothing) when the topic is up to date, false to be asked again later. */
export type SyncRoutine = () => Promise<boolean | void>;

export interface Topic {
	readonly name: string;
	/** Keep the topic joined until the returned function is called (counted: each hold needs its release). */
	hold(): Unsubscribe;
	/** The channel's state now. */
	readonly state: ChannelState;
	/** Called with every channel state change (joined again after a reconnect, errored, closed). */
	onState(listener: (state: ChannelState) => void): Unsubscribe;
	/** The server's reply to the last join refused for good (the topic is not rejoined), or null. */
	readonly joinError: unknown;
	/** Listen to server pushes of `event`. Check the payload: refuse a bad one with `reportRefused`. */
	on(event: string, listener: (payload: unknown) => void): Unsubscribe;
	/** A plain request (not queued, needs the socket): resolves `closed` when the topic is not joined. */
	request(event: string, payload?: Record<string, unknown>, options?: { timeoutMs?: number }): Promise<PushResult>;
	/** Called when the server confirms one of this topic's actions, before the queue drops it (merge its reply first: nothing flickers). */
	onConfirmed(listener: (item: QueueItem, response: unknown) => void): Unsubscribe;
	/** Add a sync routine, run after a reconnect once this topic's lane is flushed, after a conflict here, and by `sync()`. */
	onSync(routine: SyncRoutine): Unsubscribe;
	/** Ask for the sync routines to run (once the lane is flushed and the topic joined). */
	requestSync(): void;
	/** Run the sync routines now (joined or not); resolves false when one could not finish. */
	sync(): Promise<boolean>;
	/** This topic's queue items (queued, sending and failed), in creation order. */
	readonly items: Observable<readonly QueueItem[]>;
	/**
	 * The optimistic view: `confirmed` with this topic's pending (and failed,
	 * per the reconcile table) actions applied, in creation order, by each
	 * type's `optimistic`, or by `project` when given (one pass over all items,
	 * for large states). Rolled-back items are left out.
	 */
	view<S>(confirmed: Observable<S>, project?: (state: S, items: readonly QueueItem[]) => S): Observable<S>;
	/** Say that something the server sent on this topic was refused at the boundary (`payload-refused` event). */
	reportRefused(event: string, message: string, payload: unknown): void;
}

export interface TopicsHooks {
	transport: Transport;
	joins: TopicJoins;
	store: QueueStore;
	registry: ActionRegistry;
	pushTimeoutMs: number;
	refused(topic: string, event: string, message: string, payload: unknown): void;
	/** A sync was requested somewhere (the engine starts what can start). */
	syncRequested(): void;
}

/** The engine's side of one topic. */
export interface TopicEntry {
	readonly topic: Topic;
	holds: number;
	syncWanted: boolean;
	syncing: boolean;
	readonly routines: Set<SyncRoutine>;
	readonly confirmedListeners: Set<(item: QueueItem, response: unknown) => void>;
	readonly items: ComputedValue<readonly QueueItem[]>;
}

export class Topics {
	readonly entries = new Map<string, TopicEntry>();
	#hooks: TopicsHooks;

	constructor(hooks: TopicsHooks) {
		this.#hooks = hooks;
	}

	/** The handle of `name` (one per name). */
	open(name: string): Topic {
		if (typeof name !== 'string' || name === '') throw new TypeError('outbox.topic(name): name must be a non-empty string like "list:groceries"');
		return (this.entries.get(name) ?? this.#create(name)).topic;
	}

	get(name: string): TopicEntry | undefined {
		return this.entries.get(name);
	}

	/** The queue changed: every topic's item list may have. */
	invalidateItems(): void {
		for (const entry of this.entries.values()) entry.items.invalidate();
	}

	/** A reply confirmed `item`: tell its topic's listeners (before the queue drops it). */
	confirmed(item: QueueItem, response: unknown): void {
		const entry = this.entries.get(item.topic);
		if (entry) for (const listener of [...entry.confirmedListeners]) listener(item, response);
	}

	/** Run a topic's routines; concurrent calls share nothing: a second one asks again later. */
	async runSync(entry: TopicEntry): Promise<boolean> {
		if (entry.syncing) {
			entry.syncWanted = true;
			return false;
		}
		entry.syncing = true;
		entry.syncWanted = false;
		let complete = true;
		try {
			for (const routine of [...entry.routines]) {
				const done = await routine().catch(() => false);
				if (done === false) complete = false;
			}
		} finally {
			entry.syncing = false;
		}
		if (!complete) entry.syncWanted = true;
		return complete;
	}

	#create(name: string): TopicEntry {
		const hooks = this.#hooks;
		const { transport, joins, store, registry } = hooks;
		let previousItems: readonly QueueItem[] = [];
		const items = new ComputedValue<readonly QueueItem[]>(() => {
			const next = itemsOfTopic(store.state, name);
			if (next.length === previousItems.length && next.every((item, i) => item === previousItems[i])) return previousItems;
			return (previousItems = next);
		});
		const entry: TopicEntry = {
			holds: 0,
			syncWanted: false,
			syncing: false,
			routines: new Set(),
			confirmedListeners: new Set(),
			items,
			topic: {
				name,
				hold() {
					entry.holds++;
					joins.ensure(name);
					let released = false;
					return () => {
						if (released) return;
						released = true;
						if (--entry.holds === 0) joins.leave(name);
					};
				},
				get state() {
					return transport.channelState(name);
				},
				onState: (listener) => transport.subscribeChannel(name, listener),
				get joinError() {
					return transport.joinError(name);
				},
				on: (event, listener) => transport.onMessage(name, event, listener),
				request(event, payload = {}, options = {}) {
					return transport.push(name, event, payload, options.timeoutMs ?? hooks.pushTimeoutMs);
				},
				onConfirmed(listener) {
					entry.confirmedListeners.add(listener);
					return () => void entry.confirmedListeners.delete(listener);
				},
				onSync(routine) {
					entry.routines.add(routine);
					return () => void entry.routines.delete(routine);
				},
				requestSync() {
					entry.syncWanted = true;
					hooks.syncRequested();
				},
				sync: () => this.runSync(entry),
				items,
				view<S>(confirmed: Observable<S>, project?: (state: S, items: readonly QueueItem[]) => S): Observable<S> {
					const apply = project ?? ((state: S, list: readonly QueueItem[]) => applyEach(registry, state, list));
					return new DerivedValue<S>([confirmed, items], () => apply(confirmed.get(), items.get()));
				},
				reportRefused: (event, message, payload) => hooks.refused(name, event, message, payload)
			}
		};
		this.entries.set(name, entry);
		return entry;
	}
}

/** The default projection: each item's type's `optimistic`, in creation order; rolled-back items left out. */
export function applyEach<S>(registry: ActionRegistry, state: S, items: readonly QueueItem[]): S {
	let next = state;
	for (const item of items) {
		const optimistic = registry.get(item.type)?.optimistic;
		if (!optimistic) continue;
		const view = item.status === 'failed' ? failedViewOf(item) : 'pending';
		if (view === 'hide') continue;
		const context: OptimisticContext = { item, mode: view === 'pending' ? 'pending' : view };
		next = optimistic(next, item.payload, context) as S;
	}
	return next;
}
