/**
 * Engine test harness: a fake clock, memory storage, the memory transport
 * pair, and a tiny chat server model behind it that dedupes by client_id as
 * the real server does (so exactly-once is checked at the server), pages
 * `sync`, and answers `history`. Plus fake connectivity and an in-memory tab
 * hub with leadership, and a timestamped event log.
 */
import type { Message } from '../../../../src/lib/protocol/message.js';
import { createOutbox, type Outbox, type OutboxOptions } from '../../../../src/lib/outbox/index.js';
import { chatActions, createChat, type Chat, type ChatActions, type ChatOptions } from '../../../../src/lib/chat/index.js';
import { OUTBOX_EVENT_NAMES, type OutboxEventName } from '../../../../src/lib/outbox/core/events.js';
import type { Connectivity, ConnectivityState, TabCoordinator, TabMessage } from '../../../../src/lib/outbox/ports.js';
import { FakeClock } from '../../../../src/lib/outbox/testing/fake-clock.js';
import { MemoryStorage } from '../../../../src/lib/outbox/testing/memory-storage.js';
import { createMemoryTransportPair, type MemoryTransportPair } from '../../../../src/lib/outbox/testing/memory-transport.js';
import type { NetworkFaults } from '../../../../src/lib/outbox/testing/memory-network.js';
import { error, ok, type ServerReply, type ServerRequest } from '../../../../src/lib/outbox/testing/memory-server.js';
import { seededRandom } from '../../../../src/lib/outbox/testing/seeded-random.js';

/** Connectivity a test switches by hand. */
export class FakeConnectivity implements Connectivity {
	#state: ConnectivityState = { online: true, visible: true };
	#listeners = new Set<(state: ConnectivityState) => void>();
	current(): ConnectivityState {
		return this.#state;
	}
	subscribe(listener: (state: ConnectivityState) => void) {
		this.#listeners.add(listener);
		return () => void this.#listeners.delete(listener);
	}
	set(state: Partial<ConnectivityState>): void {
		this.#state = { ...this.#state, ...state };
		for (const listener of [...this.#listeners]) listener(this.#state);
	}
}

/** Tabs of one browser: the first open tab leads; when it closes, the next one does. Messages arrive a microtask later. */
export class TabHub {
	#tabs: HubTab[] = [];
	tab(): TabCoordinator {
		const tab = new HubTab(this);
		this.#tabs.push(tab);
		if (this.#tabs.length === 1) tab.setLeader(true);
		return tab;
	}
	/** Leadership moves to `to` (a frozen leader's lease taken over, say); the old leader hears it lost. */
	handOver(to: TabCoordinator): void {
		const next = to as HubTab;
		for (const tab of this.#tabs) if (tab !== next) tab.setLeader(false);
		next.setLeader(true);
	}
	/** @internal */
	remove(tab: HubTab): void {
		const wasLeader = tab.isLeader();
		this.#tabs = this.#tabs.filter((t) => t !== tab);
		tab.setLeader(false);
		if (wasLeader) this.#tabs[0]?.setLeader(true);
	}
	/** @internal */
	send(from: HubTab, message: TabMessage): void {
		const copy = structuredClone(message);
		for (const tab of this.#tabs) if (tab !== from) queueMicrotask(() => tab.deliver(copy));
	}
}

class HubTab implements TabCoordinator {
	#leader = false;
	#listeners = new Set<(isLeader: boolean) => void>();
	#messages = new Set<(message: TabMessage) => void>();
	#closed = false;
	constructor(private readonly hub: TabHub) {}
	isLeader() {
		return this.#leader;
	}
	subscribe(listener: (isLeader: boolean) => void) {
		this.#listeners.add(listener);
		return () => void this.#listeners.delete(listener);
	}
	broadcast(message: TabMessage) {
		if (!this.#closed) this.hub.send(this, message);
	}
	onBroadcast(listener: (message: TabMessage) => void) {
		this.#messages.add(listener);
		return () => void this.#messages.delete(listener);
	}
	close() {
		if (this.#closed) return;
		this.#closed = true;
		this.hub.remove(this);
	}
	setLeader(value: boolean) {
		if (this.#leader === value) return;
		this.#leader = value;
		for (const listener of [...this.#listeners]) listener(value);
	}
	deliver(message: TabMessage) {
		if (!this.#closed) for (const listener of [...this.#messages]) listener(message);
	}
}

type Action = { client_id: string; type: string; payload: Record<string, unknown> };

/**
 * The server side of the chat as the memory pairs see it: one shared model,
 * any number of client connections (tabs, users). Idempotent by author + client_id.
 */
export class ChatModel {
	readonly messages: Message[] = [];
	/** Every action applied once (not the duplicates). */
	readonly applied: Array<{ author: string; client_id: string; type: string; room: string; at: number }> = [];
	readonly outcomes = new Map<string, ServerReply>();
	/** Change log: index + 1 is the cursor position. */
	readonly changes: string[] = [];
	syncPageSize = 500;
	/** Return a reply to override the model for one request (or undefined to let it answer). */
	intercept: ((request: ServerRequest, author: string) => ServerReply | null | undefined) | null = null;
	/** Batches refused as `out_of_order` (their `after` named a batch not applied on the channel). */
	refusedOutOfOrder = 0;
	/** Apply the next n action pushes but send no reply (the server acted; the ack never comes). */
	swallowReplies = 0;
	#pairs: Array<{ pair: MemoryTransportPair; author: string }> = [];

	constructor(private readonly clock: FakeClock) {}

	attach(pair: MemoryTransportPair, author: string): void {
		this.#pairs.push({ pair, author });
		const handle = (type: string) => (request: ServerRequest) => {
			const override = this.intercept?.(request, author);
			if (override !== undefined) return override;
			const reply = this.apply(author, request.topic, { client_id: String(request.payload.client_id), type, payload: request.payload }, pair);
			if (this.swallowReplies > 0 && this.swallowReplies--) return null;
			return reply;
		};
		for (const type of ['send_message', 'edit_message', 'delete_message', 'mark_read']) pair.server.handle(type, handle(type));
		pair.server.handle('send_batch', (request) => {
			// `after`, as Outbox's server: a batch behind one not applied on this channel is refused whole.
			const channel = pair.server.channelState(request.topic);
			const after = request.payload.after as string | undefined;
			if (after !== undefined && after !== channel.lastBatch) {
				this.refusedOutOfOrder++;
				return error('out_of_order');
			}
			const override = this.intercept?.(request, author);
			if (override !== undefined) return override;
			const actions = request.payload.actions as Action[];
			// One push of every change to the others, as the server does for a batch (`changes`, or the single event).
			const changed: Array<{ event: string; message: Message }> = [];
			const results = actions.map((action) => {
				const reply = this.apply(author, request.topic, action, pair, changed);
				return reply.status === 'ok'
					? { client_id: action.client_id, status: 'ok', ...(reply.response as object) }
					: { client_id: action.client_id, status: 'error', ...(reply.response as object) };
			});
			if (changed.length === 1) this.#broadcast(request.topic, changed[0]!.event, { message: changed[0]!.message }, pair);
			else if (changed.length > 1) this.#broadcast(request.topic, 'changes', { messages: changed.map((c) => c.message) }, pair);
			const retryable = results.some((r) => r.status === 'error' && ['internal', 'rate_limited'].includes(String((r as { reason?: unknown }).reason)));
			if (actions.length > 0 && !retryable) channel.lastBatch = actions[actions.length - 1]!.client_id;
			if (this.swallowReplies > 0 && this.swallowReplies--) return null;
			return ok({ results });
		});
		pair.server.handle('sync', (request) => {
			const override = this.intercept?.(request, author);
			if (override !== undefined) return override;
			const since = request.payload.since === null ? 0 : Number(String(request.payload.since).slice(1));
			const room = request.topic.slice('room:'.length);
			const ids = this.changes.slice(since);
			const end = Math.min(this.changes.length, since + this.syncPageSize);
			const seen = new Set<string>();
			const page = ids.slice(0, end - since).filter((id) => !seen.has(id) && seen.add(id));
			const messages = page.map((id) => this.messages.find((m) => m.id === id) as Message).filter((m) => m.room === room);
			queueMicrotask(() =>
				pair.server.push(request.topic, 'sync:complete', { messages, cursor: `c${end}`, unread_count: 0, complete: end >= this.changes.length })
			);
			return ok({});
		});
		pair.server.handle('history', (request) => {
			const room = request.topic.slice('room:'.length);
			const before = request.payload.before as number | null;
			const limit = request.payload.limit as number;
			const all = this.messages.filter((m) => m.room === room && (before === null || m.seq < before));
			return ok({ messages: all.slice(-limit), cursor: `c${this.changes.length}` });
		});
	}

	/**
	 * Apply one action once; a repeated client_id returns the first outcome.
	 * The change goes to every other connection (`from` is the sender: it has its reply, as Phoenix's
	 * broadcast_from), or into `batch` when the caller pushes a batch's changes at once.
	 */
	apply(author: string, topic: string, action: Action, from?: MemoryTransportPair, batch?: Array<{ event: string; message: Message }>): ServerReply {
		const key = `${author}/${action.client_id}`;
		const held = this.outcomes.get(key);
		if (held) return held;
		const room = topic.slice('room:'.length);
		let reply: ServerReply;
		if (action.type === 'send_message') {
			const seq = this.messages.filter((m) => m.room === room).length + 1;
			const at = new Date(this.clock.now()).toISOString();
			const message: Message = {
				id: `m${this.messages.length + 1}`,
				client_id: action.client_id,
				room,
				author: { id: author, name: author },
				body: String(action.payload.body),
				seq,
				version: 1,
				deleted: false,
				inserted_at: at,
				updated_at: at
			};
			this.messages.push(message);
			this.changes.push(message.id);
			if (batch) batch.push({ event: 'new_message', message });
			else this.#broadcast(topic, 'new_message', { message }, from);
			reply = ok({ message });
		} else if (action.type === 'edit_message' || action.type === 'delete_message') {
			const index = this.messages.findIndex((m) => m.id === action.payload.id);
			const held = this.messages[index];
			if (!held) reply = error('invalid', 'no such message');
			else if (held.version !== action.payload.base_version || held.deleted) reply = error('conflict');
			else {
				const deleted = action.type === 'delete_message';
				const message = { ...held, version: held.version + 1, deleted, body: deleted ? '' : String(action.payload.body) };
				this.messages[index] = message;
				this.changes.push(message.id);
				if (batch) batch.push({ event: 'message_updated', message });
				else this.#broadcast(topic, 'message_updated', { message }, from);
				reply = ok({ message });
			}
		} else {
			reply = ok({ unread_count: 0 });
		}
		this.outcomes.set(key, reply);
		this.applied.push({ author, client_id: action.client_id, type: action.type, room, at: this.clock.now() });
		return reply;
	}

	/** Add a message from someone else, as if sent elsewhere. */
	post(room: string, author: string, body: string): Message {
		const reply = this.apply(author, `room:${room}`, { client_id: `x${this.changes.length}`, type: 'send_message', payload: { body } });
		return (reply as { response: { message: Message } }).response.message;
	}

	#broadcast(topic: string, event: string, payload: unknown, from?: MemoryTransportPair): void {
		for (const { pair } of this.#pairs) if (pair !== from) pair.server.push(topic, event, payload);
	}
}

export interface LogEntry {
	at: number;
	type: OutboxEventName;
	detail: unknown;
}

export interface Tab {
	outbox: Outbox<ChatActions>;
	/** The chat preset on this tab's engine. */
	chat: Chat;
	pair: MemoryTransportPair;
	connectivity: FakeConnectivity;
	log: LogEntry[];
	/** Event types in order. */
	types(): OutboxEventName[];
}

export interface WorldOptions {
	seed?: number;
	faults?: Partial<NetworkFaults>;
	storage?: MemoryStorage;
	retry?: OutboxOptions['retry'];
	pushTimeoutMs?: number;
}

/** A clock, a storage and a chat model; `tab()` opens an engine on them. */
export class World {
	readonly clock = new FakeClock(1_000_000);
	readonly storage: MemoryStorage;
	readonly model = new ChatModel(this.clock);
	readonly hub = new TabHub();
	#seed: number;
	#extraDeps: Partial<OutboxOptions<ChatActions>['deps']> = {};

	constructor(readonly options: WorldOptions = {}) {
		this.storage = options.storage ?? new MemoryStorage();
		this.#seed = options.seed ?? 1;
	}

	tab(user: string | null = 'ann', extra: Partial<OutboxOptions<ChatActions>> = {}, chatOptions: ChatOptions = {}): Tab {
		const seed = this.#seed++;
		const pair = createMemoryTransportPair({ clock: this.clock, seed, faults: this.options.faults });
		if (user) this.model.attach(pair, user);
		const connectivity = new FakeConnectivity();
		const outbox = createOutbox({
			actions: chatActions,
			deps: { clock: this.clock, storage: this.storage, transport: pair.client, connectivity, tabs: this.hub.tab(), ...this.#extraDeps },
			retry: { random: seededRandom(seed * 31), ...this.options.retry },
			pushTimeoutMs: this.options.pushTimeoutMs ?? 2000,
			eventTarget: null,
			...extra
		});
		const log: LogEntry[] = [];
		for (const type of OUTBOX_EVENT_NAMES) outbox.events.on(type, (detail) => log.push({ at: this.clock.now(), type, detail }));
		const chat = createChat(outbox, { rejectedStore: null, ...chatOptions });
		if (user) void outbox.setUser({ id: user, name: user });
		return { outbox, chat, pair, connectivity, log, types: () => log.map((e) => e.type) };
	}

	/** A tab whose engine has these extra ports (an uploader, say). */
	tabWith(user: string, deps: Partial<OutboxOptions<ChatActions>['deps']>, chatOptions: ChatOptions = {}): Tab {
		this.#extraDeps = deps ?? {};
		try {
			return this.tab(user, {}, chatOptions);
		} finally {
			this.#extraDeps = {};
		}
	}

	/** Let time pass in steps, with promise callbacks running in between. */
	async run(ms: number, step = 50): Promise<void> {
		for (let t = 0; t < ms; t += step) await this.clock.advanceAsync(Math.min(step, ms - t));
	}

	/** Run until `check` holds, failing after `ms` of fake time. */
	async until(check: () => boolean, ms = 60_000, what = 'condition'): Promise<void> {
		for (let t = 0; t <= ms; t += 25) {
			if (check()) return;
			await this.clock.advanceAsync(25);
		}
		throw new Error(`not reached in ${ms} ms of fake time: ${what}`);
	}
}
