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
import { itemsOfTopic } from '../core/queue-state.js';
import { messageSchema } from '../../protocol/schemas.js';
import { isStorageError } from '../ports.js';
import type { Unsubscribe } from '../ports.js';
import { createActionRegistry } from './action-registry.js';
import type { ConnectionState } from './connection-state.js';
import { deriveConnection, INITIAL_CONNECTION } from './connection-state.js';
import { WritableValue } from './observable.js';
import type { OutboxOptions } from './options.js';
import { resolveOptions } from './options.js';
import { createOutboxApi, type EngineSession } from './outbox-api.js';
import { PendingCalls } from './pending-calls.js';
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
	const session: EngineSession = { user: null, closed: false, signInRequired: false, ready: Promise.resolve(), flushWaiters: [] };

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
		const message = room && session.user ? findByClientId(room.state.confirmed, item.id, session.user.id) : undefined;
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

	/** Takeovers reading the queue from storage: nothing is sent until they are applied, or a stale read brings back what was sent meanwhile. */
	let takingOver = 0;
	const canSend = () =>
		!session.closed && session.user !== null && !session.signInRequired && tabs.isLeader() && takingOver === 0 && connection.get().status === 'connected';

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
				session.signInRequired = true;
				setError({ kind: 'unauthorized', message: 'the server refused the session; sign in again', at: clock.now() });
			}
		},
		pumped() {
			if (store.state.counts.sending === 0 || !canSend()) {
				const waiters = session.flushWaiters;
				session.flushWaiters = [];
				for (const resolve of waiters) resolve();
			}
			startSyncs();
		}
	});

	const rooms: Rooms = new Rooms({
		store,
		registry,
		user: () => session.user,
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
			add: (type, topic, payload) => outbox.add(type, topic, payload),
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
			if (session.user === null) return;
			void entry.state.loadSnapshot().then(() => {
				if (rooms.get(entry.state.topic) === entry && joins.ensure(entry.state.topic)) entry.state.joined();
			});
		}
	});

	/** Syncs wanted by rooms whose lane is flushed (a follower does not wait: it does not send). */
	function startSyncs(): void {
		if (session.closed || session.user === null || connection.get().status !== 'connected') return;
		const now = clock.now();
		for (const { state } of rooms.entries.values()) {
			if (!state.syncWanted || state.isSyncing || !joins.isJoined(state.topic)) continue;
			if (tabs.isLeader() && !session.signInRequired && !isLaneFlushed(store, state.topic, now)) continue;
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
		if (next.status === 'connected' && previous.status !== 'connected' && session.user !== null) {
			// The reconnect effect: items held by the network go first; rooms sync once their lanes are flushed.
			store.apply({ type: 'flushRequested', scope: 'network' });
		}
		loop.schedule();
	}

	/** `online` came: skip the socket's backoff and try now. */
	function reconnectNow(): void {
		if (session.closed || session.user === null || !o.autoConnect) return;
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
			if (isLeader && session.user !== null) {
				takingOver++;
				void store.takeOver().finally(() => {
					takingOver--;
					loop.schedule();
				});
			} else loop.schedule();
		}),
		tabs.onBroadcast((message) => {
			if (session.closed || message.namespace !== store.namespace) return;
			if (message.kind === 'queue-changed') {
				store.apply({ type: 'replicated', items: message.items, removedIds: message.removedIds }, { persist: false });
			} else if (tabs.isLeader()) {
				void outbox.flush();
			}
		})
	);

	const outbox: Outbox = createOutboxApi({
		o,
		session,
		registry,
		emitter,
		connection,
		error,
		store,
		joins,
		loop,
		rooms,
		pending,
		stops,
		setError,
		updateConnection,
		syncRooms
	});
	updateConnection();
	if (options.user !== undefined && options.user !== null) void outbox.setUser(options.user);
	return outbox;
}
