/**
 * The public face of the engine: the queue API, user switching and
 * shutdown, over the parts `engine.ts` wires together. Misuse throws; every
 * change goes through the queue store (reduce, persist, then notify).
 */
import { createQueueItem, type QueueItem } from '../core/queue-item.js';
import type { Emitter, OutboxEventMap } from '../core/events.js';
import type { Unsubscribe } from '../ports.js';
import type { ActionRegistry } from './action-registry.js';
import { checkAction } from './action-registry.js';
import type { ConnectionState } from './connection-state.js';
import type { WritableValue } from './observable.js';
import type { OutboxUser, ResolvedOptions } from './options.js';
import { normalizeUser } from './options.js';
import type { PendingCalls } from './pending-calls.js';
import type { QueueStore } from './queue-store.js';
import type { Rooms } from './rooms.js';
import type { SendLoop } from './send-loop.js';
import type { TopicJoins } from './topic-joins.js';
import type { Outbox, OutboxError } from './types.js';

/** The engine's mutable session: who is signed in, and whether it may still run. */
export interface EngineSession {
	user: OutboxUser | null;
	closed: boolean;
	/** The server refused the session on a push: no sends until `setUser`. */
	signInRequired: boolean;
	ready: Promise<void>;
	/** `flush()` callers, told when the loop finds nothing more to send. */
	flushWaiters: Array<() => void>;
}

/** What `engine.ts` hands over. */
export interface EngineParts {
	o: ResolvedOptions;
	session: EngineSession;
	registry: ActionRegistry;
	emitter: Emitter<OutboxEventMap>;
	connection: WritableValue<ConnectionState>;
	error: WritableValue<OutboxError | null>;
	store: QueueStore;
	joins: TopicJoins;
	loop: SendLoop;
	rooms: Rooms;
	pending: PendingCalls;
	/** Port subscriptions to undo on close. */
	stops: Unsubscribe[];
	setError(value: OutboxError | null): void;
	updateConnection(): void;
	syncRooms(topics: readonly string[]): Promise<void>;
}

export function createOutboxApi(parts: EngineParts): Outbox {
	const { o, session, registry, emitter, connection, error, store, joins, loop, rooms, pending, stops, setError, updateConnection, syncRooms } = parts;
	const { clock, transport, tabs, ids } = o.deps;

	function requireOpen(what: string): OutboxUser {
		if (session.closed) throw new Error(`${what}: this outbox is closed`);
		if (session.user === null) throw new Error(`${what}: no user is set; call outbox.setUser(user) first`);
		return session.user;
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

	const outbox: Outbox = {
		deps: o.deps,
		actions: registry,
		events: { on: (type, listener) => emitter.on(type, listener), off: (type, listener) => emitter.off(type, listener) },
		connection,
		queue: store.snapshot,
		error,
		get user() {
			return session.user;
		},
		get ready() {
			return session.ready;
		},
		get count() {
			return store.state.items.size;
		},
		get isLeader() {
			return tabs.isLeader();
		},
		setUser(next) {
			if (session.closed) throw new Error('setUser: this outbox is closed');
			const nextUser = normalizeUser(next);
			const previous = session.user;
			session.user = nextUser;
			if (previous?.id === nextUser?.id) {
				// The same user signing in afresh (a new token) ends a refused session: connect and send again.
				const status = transport.status();
				const refused = session.signInRequired || (status.status === 'disconnected' && status.reason === 'unauthorized');
				if (nextUser !== null && refused) {
					session.signInRequired = false;
					if (error.get()?.kind === 'unauthorized') setError(null);
					if (o.autoConnect) {
						transport.disconnect();
						transport.connect();
					}
					loop.schedule();
				}
				rooms.invalidateAll();
				return session.ready;
			}
			loop.stop();
			joins.leaveAll();
			pending.endAll('cancelled');
			session.signInRequired = false;
			setError(null);
			for (const { state } of rooms.entries.values()) state.reset();
			session.ready = store.load(nextUser?.id ?? null, { persist: tabs.isLeader() }).then(async () => {
				if (session.user !== nextUser) return;
				if (o.autoConnect) {
					if (previous !== null) transport.disconnect();
					if (nextUser !== null) transport.connect();
				}
				if (nextUser === null) return;
				await Promise.all([...rooms.entries.values()].map((entry) => entry.state.loadSnapshot()));
				for (const { state } of rooms.entries.values()) if (joins.ensure(state.topic)) state.joined();
				updateConnection();
			});
			return session.ready;
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
			const done = new Promise<void>((resolve) => session.flushWaiters.push(resolve));
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
			if (session.closed) return;
			session.closed = true;
			loop.stop();
			for (const stop of stops.splice(0)) stop();
			for (const topic of [...rooms.entries.keys()]) rooms.close(topic);
			joins.leaveAll();
			pending.endAll('cancelled');
			for (const resolve of session.flushWaiters.splice(0)) resolve();
			tabs.close();
			if (o.autoConnect) transport.disconnect();
			await store.drain();
		}
	};
	return outbox;
}
