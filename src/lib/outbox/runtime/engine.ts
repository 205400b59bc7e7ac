/**
 * The Outbox engine: drives the pure core through the injected ports.
 *
 *   setUser(u) ──> loading (storage.getAll → restored) ──> ready
 *
 *   ready, per tab:   follower ──gains leadership (storage → replicated)──> leader
 *                         ^                                                   │
 *                         └──────────────── loses leadership ─────────────────┘
 *   leader's loop:    idle ──item ready, connected, topic joined──> sending
 *                      ^                                              │ replies: succeeded / failed
 *                      └── nothing in flight, nothing ready (idle) <──┘   (one timer: next backoff end)
 *   connection:       connected ──socket lost / offline──> connecting | disconnected
 *                         ^                                        │
 *                         └── reconnected: flush (network), then sync each open room (paged) ──┘
 *   signInRequired (token refused): no more sends until setUser.
 *
 * Persist, then notify: every reducer action is written (puts and removes
 * grouped), then its events go out (typed emitter and `outbox:<name>` DOM
 * events), then other tabs hear of it. Followers apply the leader's
 * changes (`replicated`) and never send.
 */
import type { OutboxEvent, OutboxEventMap } from '../core/events.js';
import { createEmitter, domEventType, emitAll } from '../core/events.js';
import { findByClientId } from '../core/confirmed.js';
import type { Outcome, QueueItem } from '../core/queue-item.js';
import { createQueueItem } from '../core/queue-item.js';
import { itemsOfTopic } from '../core/queue-state.js';
import { messageSchema } from '../../protocol/schemas.js';
import { isStorageError } from '../ports.js';
import type { Unsubscribe } from '../ports.js';
import { checkAction, createActionRegistry } from './action-registry.js';
import type { ConnectionState } from './connection-state.js';
import { deriveConnection, INITIAL_CONNECTION } from './connection-state.js';
import { WritableValue } from './observable.js';
import type { OutboxOptions, OutboxUser } from './options.js';
import { normalizeUser, resolveOptions } from './options.js';
import { OutboxCallError, PendingCalls } from './pending-calls.js';
import { QueueStore } from './queue-store.js';
import { Rooms } from './rooms.js';
import { isLaneFlushed, SendLoop } from './send-loop.js';
import { TopicJoins } from './topic-joins.js';
import type { Outbox, OutboxError } from './types.js';

/**
 * Create an engine. Nothing browser-specific here: pass the ports (or use
 * `createBrowserOutbox` from `outbox/browser`).
 *
 * @example
 * const outbox = createOutbox({ deps: { storage: new MemoryStorage(), transport }, user: { id: 'u1', name: 'Ann' } });
 * await outbox.ready;
 * await outbox.add('send_message', 'room:lobby', { body: 'hi' });
 */
export function createOutbox(options: OutboxOptions): Outbox {
	const o = resolveOptions(options);
	const { clock, storage, transport, connectivity, tabs, ids } = o.deps;
	const emitter = createEmitter<OutboxEventMap>();
	const registry = createActionRegistry();
	const connection = new WritableValue<ConnectionState>(INITIAL_CONNECTION);
	const error = new WritableValue<OutboxError | null>(null);
	const stops: Unsubscribe[] = [];
	let user: OutboxUser | null = null;
	let closed = false;
	let signInRequired = false;
	let flushWaiters: Array<() => void> = [];

	const emit = (events: readonly OutboxEvent[]) => {
		const target = o.eventTarget;
		if (target) for (const event of events) target.dispatchEvent(new CustomEvent(domEventType(event.type), { detail: event.detail }));
		try {
			emitAll(emitter, events);
		} catch (listenerError) {
			// A listener's bug must not stop the engine; report it where it can be seen.
			queueMicrotask(() => {
				throw listenerError;
			});
		}
	};
	const setError = (value: OutboxError | null) => error.set(value);

	const pending = new PendingCalls((item) => {
		const room = rooms.get(item.topic);
		const message = room && user ? findByClientId(room.state.confirmed, item.id, user.id) : undefined;
		return message ? { message } : {};
	});

	const store: QueueStore = new QueueStore({
		storage,
		tabs,
		policy: o.retry,
		emit,
		storageFailed(failure) {
			const kind = isStorageError(failure) ? failure.kind : 'unavailable';
			setError({ kind, message: failure instanceof Error ? failure.message : String(failure), at: clock.now() });
		},
		storageOk() {
			const current = error.get();
			if (current && (current.kind === 'quota' || current.kind === 'unavailable')) setError(null);
		},
		changed(result) {
			rooms.invalidateAll();
			pending.observe(result, store.state);
			loop.schedule();
		}
	});

	const canSend = () => !closed && user !== null && !signInRequired && tabs.isLeader() && connection.get().status === 'connected';

	const joins = new TopicJoins(transport, {
		joined(topic) {
			rooms.get(topic)?.state.joined();
			loop.schedule();
		},
		refused(topic, reason, message) {
			if (tabs.isLeader()) loop.failReady(topic, message === undefined ? { kind: 'error', reason } : { kind: 'error', reason, message });
		}
	});

	const loop: SendLoop = new SendLoop({
		store,
		transport,
		clock,
		registry,
		maxBatch: o.maxBatch,
		pushTimeoutMs: o.pushTimeoutMs,
		canSend,
		ensureJoined: (topic) => joins.ensure(topic),
		settling(item: QueueItem, outcome: Outcome) {
			if (outcome.kind !== 'ok') return;
			pending.responded(item.id, outcome.response);
			const room = rooms.get(item.topic);
			const response = outcome.response as { message?: unknown; unread_count?: unknown } | null;
			const parsed = messageSchema.safeParse(response?.message);
			if (room && parsed.success) room.state.merge([parsed.data]);
			if (room && typeof response?.unread_count === 'number') room.state.unreadCount = response.unread_count;
		},
		settled(result) {
			for (const topic of result.syncTopics) {
				const room = rooms.get(topic);
				if (room) room.state.syncWanted = true;
			}
			if (result.signInRequired) {
				signInRequired = true;
				setError({ kind: 'unauthorized', message: 'the server refused the session; sign in again', at: clock.now() });
			}
		},
		pumped() {
			if (store.state.counts.sending === 0 || !canSend()) {
				const waiters = flushWaiters;
				flushWaiters = [];
				for (const resolve of waiters) resolve();
			}
			startSyncs();
		}
	});

	const rooms: Rooms = new Rooms({
		store,
		registry,
		user: () => user,
		hideDeleted: o.hideDeleted,
		context: {
			transport,
			clock,
			storage,
			namespace: () => store.namespace,
			pushTimeoutMs: o.pushTimeoutMs,
			historyLimit: o.historyLimit,
			snapshotLimit: o.snapshotLimit
		},
		host: {
			add: (type, topic, payload) => add(type, topic, payload),
			settled: (item) => pending.wait(item),
			itemsOf: (topic) => itemsOfTopic(store.state, topic),
			isAction: (type) => registry.has(type),
			async push(topic, event, payload) {
				joins.ensure(topic);
				const result = await transport.push(topic, event, payload, o.pushTimeoutMs);
				if (result.status === 'ok') return result.response;
				const reason = result.status === 'error' ? result.response.reason : result.status;
				throw Object.assign(new Error(`${event} on ${topic}: ${reason}`), { reason });
			},
			onMessage: (topic, event, callback) => transport.onMessage(topic, event, callback),
			sync: (topic) => syncRooms([topic]),
			leave(topic) {
				rooms.close(topic);
				joins.leave(topic);
				loop.schedule();
			}
		},
		opened(entry) {
			if (user === null) return;
			void entry.state.loadSnapshot().then(() => {
				if (rooms.get(entry.state.topic) === entry && joins.ensure(entry.state.topic)) entry.state.joined();
			});
		}
	});

	/** Syncs wanted by rooms whose lane is flushed (a follower does not wait: it does not send). */
	function startSyncs(): void {
		if (closed || user === null || connection.get().status !== 'connected') return;
		const now = clock.now();
		for (const { state } of rooms.entries.values()) {
			if (!state.syncWanted || state.isSyncing || !joins.isJoined(state.topic)) continue;
			if (tabs.isLeader() && !signInRequired && !isLaneFlushed(store, state.topic, now)) continue;
			void state.sync();
		}
	}

	async function syncRooms(topics: readonly string[]): Promise<void> {
		await outbox.flush();
		await Promise.all(
			topics.map((topic) => {
				const room = rooms.get(topic);
				return room && joins.isJoined(topic) ? room.state.sync() : undefined;
			})
		);
	}

	function updateConnection(): void {
		const previous = connection.get();
		const next = deriveConnection(previous, transport.status(), connectivity.current(), clock.now());
		connection.set(next);
		if (next.status === 'connected' && previous.status !== 'connected' && user !== null) {
			// The reconnect effect: items held by the network go first; rooms sync once their lanes are flushed.
			store.apply({ type: 'flushRequested', scope: 'network' });
		}
		loop.schedule();
	}

	/** `online` came: skip the socket's backoff and try now. */
	function reconnectNow(): void {
		if (closed || user === null || !o.autoConnect) return;
		const status = transport.status();
		if (status.status === 'connected' || (status.status === 'disconnected' && status.reason === 'unauthorized')) return;
		const direct = (transport as { reconnectNow?: () => void }).reconnectNow;
		if (typeof direct === 'function') return direct.call(transport);
		transport.disconnect();
		transport.connect();
	}

	let wasOnline = connectivity.current().online;
	stops.push(
		transport.subscribeStatus(updateConnection),
		connectivity.subscribe((state) => {
			const cameOnline = state.online && !wasOnline;
			wasOnline = state.online;
			updateConnection();
			if (cameOnline) reconnectNow();
		}),
		tabs.subscribe((isLeader) => {
			if (isLeader && user !== null) void store.takeOver().then(() => loop.schedule());
			else loop.schedule();
		}),
		tabs.onBroadcast((message) => {
			if (closed || message.namespace !== store.namespace) return;
			if (message.kind === 'queue-changed') {
				store.apply({ type: 'replicated', items: message.items, removedIds: message.removedIds }, { persist: false });
			} else if (tabs.isLeader()) {
				void outbox.flush();
			}
		})
	);

	function requireOpen(what: string): OutboxUser {
		if (closed) throw new Error(`${what}: this outbox is closed`);
		if (user === null) throw new Error(`${what}: no user is set; call outbox.setUser(user) first`);
		return user;
	}

	function add(type: string, topic: string, payload: Record<string, unknown>): Promise<QueueItem> {
		requireOpen('add');
		if (typeof topic !== 'string' || topic === '') throw new TypeError('add(type, topic, payload): topic must be a non-empty string like "room:lobby"');
		if (!payload || typeof payload !== 'object') throw new TypeError('add(type, topic, payload): payload must be a JSON object');
		const id = ids.next();
		try {
			checkAction(registry, type, id, payload);
		} catch (invalid) {
			if (invalid instanceof TypeError) throw invalid;
			return Promise.reject(invalid);
		}
		const item = createQueueItem({ id, type, topic, payload, createdAt: clock.now() });
		return store.enqueue(item).then(() => item);
	}

	/** Apply a user action to the queue; resolves once it is written. */
	function change(what: string, action: Parameters<QueueStore['apply']>[0]): Promise<void> {
		requireOpen(what);
		store.apply(action);
		return store.drain();
	}

	let ready: Promise<void> = Promise.resolve();

	const outbox: Outbox = {
		deps: o.deps,
		actions: registry,
		events: { on: (type, listener) => emitter.on(type, listener), off: (type, listener) => emitter.off(type, listener) },
		connection,
		queue: store.snapshot,
		error,
		get user() {
			return user;
		},
		get ready() {
			return ready;
		},
		get count() {
			return store.state.items.size;
		},
		get isLeader() {
			return tabs.isLeader();
		},
		setUser(next) {
			if (closed) throw new Error('setUser: this outbox is closed');
			const nextUser = normalizeUser(next);
			const previous = user;
			user = nextUser;
			if (previous?.id === nextUser?.id) {
				rooms.invalidateAll();
				return ready;
			}
			loop.stop();
			joins.leaveAll();
			pending.endAll('cancelled');
			signInRequired = false;
			setError(null);
			for (const { state } of rooms.entries.values()) state.reset();
			ready = store.load(nextUser?.id ?? null, { persist: tabs.isLeader() }).then(async () => {
				if (user !== nextUser) return;
				if (o.autoConnect) {
					if (previous !== null) transport.disconnect();
					if (nextUser !== null) transport.connect();
				}
				if (nextUser === null) return;
				await Promise.all([...rooms.entries.values()].map((entry) => entry.state.loadSnapshot()));
				for (const { state } of rooms.entries.values()) if (joins.ensure(state.topic)) state.joined();
				updateConnection();
			});
			return ready;
		},
		add,
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
			requireOpen('flush');
			if (!tabs.isLeader()) {
				tabs.broadcast({ kind: 'flush-requested', namespace: store.namespace as string });
				return Promise.resolve();
			}
			store.apply({ type: 'flushRequested', scope: 'all' });
			const done = new Promise<void>((resolve) => flushWaiters.push(resolve));
			loop.schedule();
			return done;
		},
		clear() {
			for (const item of store.state.items.values()) pending.end(item.id, 'removed');
			return change('clear', { type: 'cleared' });
		},
		list: () => store.snapshot.get().items,
		get: (id) => store.state.items.get(id),
		subscribe: (listener) => store.snapshot.subscribe((snapshot) => listener(snapshot.items)),
		settled: (item) => pending.wait(item),
		sync: (topic) => syncRooms(topic === undefined ? [...rooms.entries.keys()] : [topic]),
		room: (topic) => rooms.open(topic),
		clearError: () => setError(null),
		async close() {
			if (closed) return;
			closed = true;
			loop.stop();
			for (const stop of stops.splice(0)) stop();
			for (const topic of [...rooms.entries.keys()]) rooms.close(topic);
			joins.leaveAll();
			pending.endAll('cancelled');
			for (const resolve of flushWaiters.splice(0)) resolve();
			tabs.close();
			if (o.autoConnect) transport.disconnect();
			await store.drain();
		}
	};

	updateConnection();
	if (options.user !== undefined && options.user !== null) void outbox.setUser(options.user);
	return outbox;
}


