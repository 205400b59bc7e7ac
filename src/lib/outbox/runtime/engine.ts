/**
 * The Outbox engine: drives the pure core through the injected ports.
 *
 *   session (core/session.ts):
 *     signedOut ──setUser──> starting (storage.getAll) ──> leader | follower
 *     follower ──gains leadership──> takingOver (storage.getAll) ──> leader
 *     token refused ──> refused: no sends until setUser (same user: a fresh token)
 *   the leader's loop (send-loop.ts):
 *     idle ──item ready, connected, topic joined──> sending ──replies──> settled ──> idle
 *     (one timer: the next backoff end)
 *   connection (connection-state.ts):
 *     connected ──socket lost / offline──> connecting | disconnected
 *         ^                                        │
 *         └── reconnected: flush (network first), then each topic's sync routines once its lane is flushed
 *
 * Persist, then notify: every reducer action is written (puts and removes in
 * one write), then its events go out (typed emitter and `outbox:<name>` DOM
 * events), then other tabs hear of it. Followers apply the leader's changes
 * (`replicated`) and never send.
 */
import type { OutboxEvent, OutboxEventMap } from '../core/events.js';
import { createEmitter, outboxEvent } from '../core/events.js';
import { classifyReply } from '../core/classify.js';
import { errorOutcome } from '../core/outcomes.js';
import { isLaneFlushed } from '../core/plan.js';
import { REJOIN_AFTER_CLOSE_MS, SYNC_RETRY_MS } from '../core/retry-policy.js';
import type { Outcome, QueueItem } from '../core/queue-item.js';
import type { QueueResult } from '../core/queue.js';
import type { SessionEvent, SessionState } from '../core/session.js';
import { reduceSession, SIGNED_OUT, sessionUser, takesOthersMark } from '../core/session.js';
import { isStorageError, type Unsubscribe } from '../ports.js';
import type { ActionMap, ActionRegistry } from './action-registry.js';
import { createActionRegistry } from './action-registry.js';
import type { ConnectionState } from './connection-state.js';
import { deriveConnection, INITIAL_CONNECTION } from './connection-state.js';
import { WritableValue } from './observable.js';
import { EngineHealth } from './health.js';
import { createEventSink } from './emit.js';
import type { OutboxOptions, OutboxUser, ResolvedOptions } from './options.js';
import { normalizeUser, resolveOptions } from './options.js';
import { createOutboxApi } from './outbox-api.js';
import { PendingCalls } from './pending-calls.js';
import { QueueStore } from './queue-store.js';
import { SendLoop } from './send-loop.js';
import { TopicJoins } from './topic-joins.js';
import { Topics } from './topics.js';
import type { Outbox, OutboxError, UploadsInFlight } from './types.js';

/**
 * Create an engine. Nothing browser-specific here: pass the ports (or use
 * `createBrowserOutbox`).
 *
 * @example
 * const outbox = createOutbox({ actions: { todo_add: defineAction({}) }, deps: { storage: new MemoryStorage(), transport } });
 * await outbox.setUser({ id: 'u1', name: 'Ann' });
 * await outbox.add('todo_add', 'list:groceries', { title: 'milk' });
 */
export function createOutbox<A extends ActionMap = ActionMap>(options: OutboxOptions<A>): Outbox<A> {
	const engine = new Engine(resolveOptions(options), createActionRegistry(options.actions));
	const outbox = createOutboxApi<A>(engine);
	if (options.user !== undefined && options.user !== null) void engine.setUser(normalizeUser(options.user));
	return outbox;
}


export class Engine {
	readonly o: ResolvedOptions;
	readonly registry: ActionRegistry;
	readonly emitter = createEmitter<OutboxEventMap>();
	readonly connection = new WritableValue<ConnectionState>(INITIAL_CONNECTION);
	readonly error = new WritableValue<OutboxError | null>(null);
	readonly session = new WritableValue<SessionState>(SIGNED_OUT);
	readonly uploads = new WritableValue<UploadsInFlight>({});
	readonly store: QueueStore;
	readonly joins: TopicJoins;
	readonly topics: Topics;
	readonly loop: SendLoop;
	readonly pending: PendingCalls;
	readonly health: EngineHealth;
	ready: Promise<void> = Promise.resolve();
	readonly #emit: (events: readonly OutboxEvent[]) => void;
	#flushWaiters: Array<() => void> = [];
	#syncRetry: unknown = null;
	#stops: Unsubscribe[] = [];
	#wasOnline: boolean;

	constructor(o: ResolvedOptions, registry: ActionRegistry) {
		this.o = o;
		this.registry = registry;
		const { clock, storage, transport, connectivity, tabs } = o.deps;
		this.#emit = createEventSink(this.emitter, registry, () => this.health, o.eventTarget);
		this.pending = new PendingCalls((item, response) => {
			const decode = registry.get(item.type)?.reply;
			return decode ? decode(response) : response;
		});
		this.store = new QueueStore({
			storage,
			tabs,
			policy: o.retry,
			emit: (events) => this.#emit(events),
			storageFailed: (failure) => {
				const kind = isStorageError(failure) ? failure.kind : 'unavailable';
				this.error.set({ kind, message: failure instanceof Error ? failure.message : String(failure), at: clock.now() });
			},
			storageOk: () => {
				const current = this.error.get();
				if (current && (current.kind === 'quota' || current.kind === 'unavailable')) this.error.set(null);
			},
			changed: (result) => {
				this.topics.invalidateItems();
				this.health.queueChanged();
				this.pending.observe(result, this.store.state);
				this.loop.schedule();
			}
		});
		this.joins = new TopicJoins(transport, {
			joined: () => this.loop.schedule(),
			refused: (topic, reply) => {
				if (tabs.isLeader()) this.loop.failReady(topic, errorOutcome(o.classify, reply) as Exclude<Outcome, { kind: 'ok' }>);
				// A join refused as unauthorized (a token revoked under a live socket) is a refused
				// session in every tab, a follower's too: held topics join again at the next setUser.
				if (classifyReply(o.classify, reply).verdict === 'unauthorized') this.#dispatch({ type: 'refused' });
			},
			closed: (topic) => {
				clock.setTimeout(() => {
					if (this.session.get().phase === 'closed') return;
					if ((this.topics.get(topic)?.holds ?? 0) > 0) this.joins.ensure(topic);
					this.loop.schedule(); // a lane with items joins it again too
				}, REJOIN_AFTER_CLOSE_MS);
			}
		});
		this.topics = new Topics({
			transport,
			joins: this.joins,
			store: this.store,
			registry,
			pushTimeoutMs: o.pushTimeoutMs,
			refused: (topic, event, message, payload) => this.#emit([outboxEvent('payload-refused', { topic, event, message, payload })]),
			syncRequested: () => this.loop.schedule()
		});
		this.loop = new SendLoop({
			store: this.store,
			transport,
			clock,
			registry,
			classify: o.classify,
			maxBatch: o.maxBatch,
			batchEvent: o.batchEvent,
			batchesInFlight: o.batchesInFlight,
			pushTimeoutMs: o.pushTimeoutMs,
			...(o.deps.uploader ? { uploader: o.deps.uploader } : {}),
			uploadProgress: (id, index, progress) => {
				const { [id]: current, ...others } = this.uploads.get();
				if (index === null || progress === undefined) {
					if (current) this.uploads.set(others);
					return;
				}
				this.uploads.set({ ...others, [id]: { ...current, [index]: progress } });
			},
			canSend: () => this.canSend(),
			leads: () => this.o.deps.tabs.isLeader(),
			ensureJoined: (topic) => this.joins.ensure(topic),
			settling: (item, outcome) => {
				if (outcome.kind !== 'ok') return;
				this.pending.responded(item.id, outcome.response);
				this.topics.confirmed(item, outcome.response);
			},
			settled: (item, outcome, result) => this.#settled(item, outcome, result),
			pumped: () => this.#pumped()
		});

		this.health = new EngineHealth(() => this.store.state, storage, this.error, () => clock.now());
		this.#stops.push(this.health.stop);

		this.#wasOnline = connectivity.current().online;
		this.#stops.push(
			transport.subscribeStatus(() => this.updateConnection()),
			connectivity.subscribe((state) => {
				const cameOnline = state.online && !this.#wasOnline;
				this.#wasOnline = state.online;
				this.updateConnection();
				if (cameOnline) this.reconnectNow();
			}),
			tabs.subscribe((isLeader) => this.#dispatch({ type: isLeader ? 'leadershipGained' : 'leadershipLost' })),
			tabs.onBroadcast((message) => {
				const phase = this.session.get().phase;
				if (phase === 'closed' || message.namespace !== this.store.namespace) return;
				if (message.kind === 'flush-requested') {
					if (tabs.isLeader()) void this.flush();
					return;
				}
				for (const [id, response] of Object.entries(message.replies ?? {})) {
					const item = this.store.state.items.get(id);
					this.pending.responded(id, response);
					if (item) this.topics.confirmed(item, response);
				}
				const items = message.items.filter((item) => item.status !== 'sending' || takesOthersMark(this.session.get(), this.store.state.items.has(item.id)));
				this.store.apply({ type: 'replicated', items, removedIds: message.removedIds }, { persist: false });
			})
		);
		this.updateConnection();
	}


	/** Leader (still: a tab resumed after its lease was taken steps down here), signed in, connected, not closed. */
	canSend(): boolean {
		return this.session.get().phase === 'leader' && this.connection.get().status === 'connected' && this.o.deps.tabs.isLeader();
	}

	get user(): OutboxUser | null {
		return sessionUser(this.session.get());
	}

	/** Switch user: see `Outbox.setUser`. */
	setUser(next: OutboxUser | null): Promise<void> {
		const { transport, tabs } = this.o.deps;
		const before = this.session.get();
		if (before.phase === 'closed') throw new Error('setUser: this outbox is closed');
		const previous = sessionUser(before);
		this.#dispatch({ type: 'userSet', user: next, leads: tabs.isLeader() });
		if (previous?.id === next?.id) {
			if (before.phase === 'refused') {
				// The same user signed in afresh (a new token): connect and send again.
				if (this.error.get()?.kind === 'unauthorized') this.error.set(null);
				if (this.o.autoConnect) {
					transport.disconnect();
					transport.connect();
				}
				// Held topics whose join was refused with the old session join again.
				for (const entry of this.topics.entries.values()) if (entry.holds > 0) this.joins.ensure(entry.topic.name);
			}
			return this.ready;
		}
		this.loop.stop();
		this.joins.leaveAll();
		this.pending.endAll('cancelled');
		this.error.set(null);
		this.ready = this.store.load(next?.id ?? null, { persist: tabs.isLeader() }).then(() => {
			if (this.user?.id !== next?.id) return;
			this.#dispatch({ type: 'loaded', leads: tabs.isLeader() });
			if (this.o.autoConnect) {
				if (previous !== null) transport.disconnect();
				if (next !== null) transport.connect();
			}
			if (next === null) return;
			for (const entry of this.topics.entries.values()) if (entry.holds > 0) this.joins.ensure(entry.topic.name);
			this.updateConnection();
		});
		return this.ready;
	}

	/** Send everything waiting now; resolves when nothing more can go. */
	flush(): Promise<void> {
		const { tabs } = this.o.deps;
		if (!tabs.isLeader()) {
			tabs.broadcast({ kind: 'flush-requested', namespace: this.store.namespace as string });
			return Promise.resolve();
		}
		this.store.apply({ type: 'flushRequested', scope: 'all' });
		const done = new Promise<void>((resolve) => this.#flushWaiters.push(resolve));
		this.loop.schedule();
		return done;
	}

	/** Flush, then run the sync routines of these topics (joined ones). */
	async sync(topics: readonly string[]): Promise<void> {
		await this.flush();
		await Promise.all(
			topics.map((name) => {
				const entry = this.topics.get(name);
				return entry && this.joins.isJoined(name) ? this.topics.runSync(entry) : undefined;
			})
		);
	}

	/** Recompute the connection value from the socket and the browser; the reconnect effect starts here. */
	updateConnection(): void {
		const { transport, connectivity, clock } = this.o.deps;
		const previous = this.connection.get();
		const next = deriveConnection(previous, transport.status(), connectivity.current(), clock.now());
		this.connection.set(next);
		if (next.status === 'connected' && previous.status !== 'connected' && this.user !== null) {
			// Items held by the network go first; every topic syncs once its lane is flushed.
			this.store.apply({ type: 'flushRequested', scope: 'network' });
			for (const entry of this.topics.entries.values()) if (entry.routines.size > 0) entry.syncWanted = true;
		}
		if (next.status === 'disconnected' && next.reason === 'unauthorized') this.#dispatch({ type: 'refused' });
		this.loop.schedule();
	}

	/** `online` came (or the app asks): skip the socket's backoff and try now. */
	reconnectNow(): void {
		const { transport } = this.o.deps;
		const phase = this.session.get().phase;
		if (phase === 'closed' || phase === 'signedOut' || phase === 'refused' || !this.o.autoConnect) return;
		const status = transport.status();
		if (status.status === 'connected' || (status.status === 'disconnected' && status.reason === 'unauthorized')) return;
		transport.reconnectNow();
	}

	async close(): Promise<void> {
		if (this.session.get().phase === 'closed') return;
		this.#dispatch({ type: 'closed' });
		this.loop.stop();
		if (this.#syncRetry !== null) this.o.deps.clock.clearTimeout(this.#syncRetry);
		this.#syncRetry = null;
		for (const stop of this.#stops.splice(0)) stop();
		this.joins.leaveAll();
		this.pending.endAll('cancelled');
		for (const resolve of this.#flushWaiters.splice(0)) resolve();
		this.o.deps.tabs.close();
		if (this.o.autoConnect) this.o.deps.transport.disconnect();
		await this.store.drain();
	}

	#dispatch(event: SessionEvent): void {
		const before = this.session.get();
		const after = reduceSession(before, event);
		if (after === before) return;
		this.session.set(after);
		if (after.phase === 'takingOver') {
			// Storage is the truth (the old leader wrote before it broadcast); nothing is sent until it is read.
			void this.store.takeOver().then(this.#resync, () => {}).finally(() => {
				if (this.session.get() === after) this.#dispatch({ type: 'tookOver' });
			});
		}
		if (after.phase === 'follower' && (before.phase === 'leader' || before.phase === 'takingOver')) {
			// Stepped down (a frozen tab resumed past its lease, or handed over): the queue is the new
			// leader's (replies to pushes still out only reach the views, see the send loop), and this
			// tab's copy is read again from storage, where what it marked `sending` is still `queued`.
			void this.store.takeOver().then(this.#resync);
		}
		if (after.phase === 'refused' && before.phase !== 'refused') {
			this.error.set({ kind: 'unauthorized', message: 'the server refused the session; sign in again', at: this.o.deps.clock.now() });
		}
		this.loop.schedule();
	}

	/** Sync these topics' views: items of theirs were settled by another tab while this one may have missed the replies. */
	#resync = (topics: readonly string[]): void => {
		for (const topic of topics) this.topics.get(topic)?.topic.requestSync();
	};

	#settled(item: QueueItem, outcome: Outcome, result: QueueResult): void {
		if (outcome.kind !== 'ok' && this.store.state.items.get(item.id)?.status === 'queued') this.health.observe([], 1);
		for (const topic of result.syncTopics) this.topics.get(topic)?.topic.requestSync();
		if (result.signInRequired) this.#dispatch({ type: 'refused' });
	}

	#pumped(): void {
		if (this.store.state.counts.sending === 0 || !this.canSend()) {
			for (const resolve of this.#flushWaiters.splice(0)) resolve();
		}
		this.#startSyncs();
	}

	/** Sync routines wanted by topics whose lane is flushed (a follower does not wait: it does not send). */
	#startSyncs(): void {
		const session = this.session.get();
		if (sessionUser(session) === null || this.connection.get().status !== 'connected') return;
		const now = this.o.deps.clock.now();
		for (const [name, entry] of this.topics.entries) {
			if (!entry.syncWanted || entry.syncing || entry.routines.size === 0 || !this.joins.isJoined(name)) continue;
			if (session.phase === 'leader' && !isLaneFlushed(this.store.state, name, now)) continue;
			void this.topics.runSync(entry).then(() => {
				if (entry.syncWanted) this.#retrySyncsLater();
			});
		}
	}

	/** One timer: a routine that could not finish runs again in `SYNC_RETRY_MS` (or sooner, on any pump). */
	#retrySyncsLater(): void {
		if (this.#syncRetry !== null || this.session.get().phase === 'closed') return;
		const { clock } = this.o.deps;
		this.#syncRetry = clock.setTimeout(() => {
			this.#syncRetry = null;
			this.loop.schedule();
		}, SYNC_RETRY_MS);
	}
}
