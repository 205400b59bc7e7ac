/**
 * The public face of the engine (`Outbox`): argument checks and the queue
 * API over `Engine`. Misuse throws; every change goes through the queue
 * store (reduce, persist, then notify).
 */
import { createQueueItem, type QueueItem } from '../core/queue-item.js';
import { itemFiles } from '../core/files.js';
import type { SessionUser as OutboxUser } from '../core/session.js';
import type { ActionMap } from './action-registry.js';
import { checkAction } from './action-registry.js';
import type { Engine } from './engine.js';
import { normalizeUser } from './options.js';
import type { QueueStore } from './queue-store.js';
import { FilesNotStorableError, type Outbox } from './types.js';

export function createOutboxApi<A extends ActionMap>(engine: Engine): Outbox<A> {
	const { o, store, pending, topics, registry } = engine;
	const { clock, tabs, ids } = o.deps;

	function requireUser(what: string): OutboxUser {
		const phase = engine.session.get().phase;
		if (phase === 'closed') throw new Error(`${what}: this outbox is closed`);
		const user = engine.user;
		if (user === null) throw new Error(`${what}: no user is set; call outbox.setUser(user) first`);
		return user;
	}

	/** Apply a user action to the queue; resolves once it is written. */
	function change(what: string, action: Parameters<QueueStore['apply']>[0]): Promise<void> {
		requireUser(what);
		store.apply(action);
		return store.drain();
	}

	const outbox: Outbox<A> = {
		deps: o.deps,
		actions: registry,
		events: { on: (type, listener) => engine.emitter.on(type, listener), off: (type, listener) => engine.emitter.off(type, listener) },
		connection: engine.connection,
		session: engine.session,
		queue: store.snapshot,
		error: engine.error,
		storage: engine.health.storage,
		figures: engine.health.figures,
		uploads: engine.uploads,
		get user() {
			return engine.user;
		},
		get ready() {
			return engine.ready;
		},
		get count() {
			return store.state.items.size;
		},
		get isLeader() {
			return tabs.isLeader();
		},
		setUser: (next) => engine.setUser(normalizeUser(next)),
		add(type, topic, payload, options = {}) {
			requireUser('add');
			if (typeof topic !== 'string' || topic === '') throw new TypeError('add(type, topic, payload): topic must be a non-empty string like "list:groceries"');
			if (!payload || typeof payload !== 'object') throw new TypeError('add(type, topic, payload): payload must be a JSON object');
			const { dedupeKey } = options;
			if (dedupeKey !== undefined && (typeof dedupeKey !== 'string' || dedupeKey === '')) {
				throw new TypeError('add(type, topic, payload, { dedupeKey }): dedupeKey must be a non-empty string');
			}
			const held = dedupeKey === undefined ? undefined : store.findByDedupeKey(dedupeKey);
			if (held) return held as never;
			let checked: Record<string, unknown>;
			try {
				checked = checkAction(registry, type, payload);
			} catch (invalid) {
				if (invalid instanceof TypeError) throw invalid;
				return Promise.reject(invalid);
			}
			const id = ids.next();
			const files = options.files === undefined ? [] : itemFiles(id, options.files);
			const item = createQueueItem({ id, type, topic, payload: checked, createdAt: clock.now(), ...(dedupeKey === undefined ? {} : { dedupeKey }), files });
			if (files.length === 0) return store.enqueue(item).then(() => item as never);
			const { storage } = o.deps;
			return (storage.acceptsFiles ? storage.acceptsFiles() : Promise.resolve(true)).then(async (accepts) => {
				if (!accepts) throw new FilesNotStorableError((await storage.describe?.())?.driver ?? null);
				await store.enqueue(item);
				return item as never;
			});
		},
		remove(id) {
			pending.end(id, 'removed');
			return change('remove', { type: 'removed', id });
		},
		retry: (id) => change('retry', { type: 'retry', id }),
		discard(id) {
			if (store.state.items.get(id)?.status !== 'sending') pending.end(id, 'discarded');
			return change('discard', { type: 'discard', id });
		},
		flush() {
			requireUser('flush');
			return engine.flush();
		},
		clear() {
			for (const item of store.state.items.values()) pending.end(item.id, 'removed');
			return change('clear', { type: 'cleared' });
		},
		list: () => store.snapshot.get().items,
		get: (id) => store.state.items.get(id),
		subscribe: (listener) => store.snapshot.subscribe((snapshot) => listener(snapshot.items)),
		settled: (item) => pending.wait(item as QueueItem) as never,
		sync: (topic) => engine.sync(topic === undefined ? [...topics.entries.keys()] : [topic]),
		topic: (name) => topics.open(name),
		// The signed-in user's values (the user at the time of the call, even while their queue is still loading).
		meta: {
			get: (key) => {
				const user = engine.user;
				return user === null ? Promise.resolve(null) : store.getMeta(user.id, key);
			},
			set: (key, value) => store.setMeta(requireUser('meta.set').id, key, value)
		},
		reconnect: () => engine.reconnectNow(),
		clearError: () => engine.error.set(null),
		close: () => engine.close()
	};
	return outbox;
}
