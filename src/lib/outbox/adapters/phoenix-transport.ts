/**
 * The `Transport` port over the official `phoenix` Socket and Channel.
 *
 * phoenix.js keeps pushes made while a channel is not joined in an in-memory
 * buffer and sends them whenever the channel comes back; the kit's queue is
 * the only buffer it trusts, so this adapter never lets a push reach phoenix
 * unless the socket is open and the channel joined (else: `closed` at once),
 * and settles a push in flight as soon as its socket or channel goes away:
 *
 *   socket closes / channel errored by the transport ──> `closed`
 *   channel crashes (`phx_error` from the server)    ──> `error {reason: 'internal'}`
 *
 * Status, as the runtime sees it:
 *
 *   disconnected ──connect()──> connecting ──open──> connected
 *        ^                          │  ^                 │
 *        │      attempt refused ────┘  └─── socket drops ┘
 *        │      (1006 before open): ask sessionCheck
 *        ├── 'unauthorized': disconnected {reason: 'unauthorized'}, no more attempts
 *        └── otherwise: disconnected, phoenix keeps retrying with its backoff
 *
 * A join refused with `forbidden`, `unauthorized` or `invalid` is left at
 * once: phoenix would otherwise retry it forever (PROTOCOL.md §4.3).
 */
import { Socket as PhoenixSocket, type Channel, type SocketConnectOption } from 'phoenix';
import { isReason, type ErrorReply, type Reason } from '../../protocol/reasons.js';
import type { ChannelState, PushResult, Transport, TransportStatus, Unsubscribe } from '../ports.js';
import { fetchSessionCheck, sessionUrlFor, type SessionCheck } from './session-check.js';

export interface PhoenixTransportOptions {
	/** Socket endpoint, as phoenix takes it: `'/socket'` or `'ws://host/socket'`. */
	endpoint: string;
	/** The current token; read again on every connect attempt. Null: signed out. */
	token: () => string | null;
	/** Passed to the phoenix `Socket` (e.g. `transport: WebSocket` from `ws` in Node, `heartbeatIntervalMs`). */
	socketOptions?: Partial<SocketConnectOption>;
	/** The `Socket` class (default: phoenix's own). */
	Socket?: typeof PhoenixSocket;
	/** Tells a refused token from no network (default: `GET /api/session` beside the endpoint). */
	sessionCheck?: SessionCheck;
}

/** The `Transport` port plus what the browser glue needs. */
export interface PhoenixTransport extends Transport {
	/** Drop the current connection and open a new one now (the browser said `online`). No-op unless connecting is wanted. */
	reconnectNow(): void;
	/** Why the last join of `topic` was refused for good (`forbidden`, `unauthorized`, `invalid`), or null. */
	joinError(topic: string): ErrorReply | null;
}

/** Join refusals that no retry can fix. */
const FINAL_JOIN_REASONS: ReadonlySet<Reason> = new Set(['forbidden', 'unauthorized', 'invalid']);

interface Topic {
	channel: Channel;
	joinResponse: unknown;
	waiters: Array<(result: PushResult) => void>;
}

interface InFlight {
	topic: string;
	settle: (result: PushResult) => void;
}

/**
 * A phoenix-backed transport.
 *
 * @example
 * const transport = createPhoenixTransport({ endpoint: '/socket', token: () => session.token });
 * transport.connect();
 * await transport.join('room:lobby');
 * const result = await transport.push('room:lobby', 'send_message', { client_id, body: 'hi' }, 10_000);
 * if (result.status === 'closed') // not sent: keep it queued
 * window.addEventListener('online', () => transport.reconnectNow());
 */
export function createPhoenixTransport(options: PhoenixTransportOptions): PhoenixTransport {
	if (!options || typeof options.endpoint !== 'string' || typeof options.token !== 'function') {
		throw new TypeError('createPhoenixTransport({ endpoint: "/socket", token: () => string | null }) needs both');
	}
	return new PhoenixChannelTransport(options);
}

class PhoenixChannelTransport implements PhoenixTransport {
	#socket: PhoenixSocket | null = null;
	#status: TransportStatus = { status: 'disconnected' };
	#wanted = false;
	#opened = false;
	#checking = false;
	#topics = new Map<string, Topic>();
	#refusals = new Map<string, ErrorReply>();
	#inFlight = new Set<InFlight>();
	#reported = new Map<string, ChannelState>();
	#statusListeners = new Set<(status: TransportStatus) => void>();
	#channelListeners = new Map<string, Set<(state: ChannelState) => void>>();
	#messageListeners = new Map<string, Set<(payload: unknown) => void>>();
	readonly #sessionCheck: SessionCheck;

	constructor(private readonly options: PhoenixTransportOptions) {
		this.#sessionCheck = options.sessionCheck ?? fetchSessionCheck(sessionUrlFor(options.endpoint), options.token);
	}

	connect(): void {
		if (this.#wanted) return;
		if (!this.options.token()) return this.#setStatus({ status: 'disconnected', reason: 'unauthorized' });
		this.#wanted = true;
		this.#opened = false;
		this.#setStatus({ status: 'connecting', attempt: 1 });
		this.#ensureSocket().connect();
	}

	disconnect(): void {
		this.#wanted = false;
		this.#settleAll(() => true, { status: 'closed' });
		this.#socket?.disconnect();
		this.#setStatus({ status: 'disconnected' });
		this.#notifyChannels();
	}

	reconnectNow(): void {
		if (!this.#wanted || !this.#socket) return;
		this.#settleAll(() => true, { status: 'closed' });
		this.#opened = false;
		// disconnect() ends the connection at once (its close event is then ignored);
		// connect() opens the next one without waiting for phoenix's backoff.
		this.#socket.disconnect();
		this.#socket.connect();
		this.#setStatus({ status: 'connecting', attempt: 1 });
		this.#notifyChannels();
	}

	status(): TransportStatus {
		return this.#status;
	}

	subscribeStatus(listener: (status: TransportStatus) => void): Unsubscribe {
		this.#statusListeners.add(listener);
		return () => void this.#statusListeners.delete(listener);
	}

	join(topic: string, params: Record<string, unknown> = {}): Promise<PushResult> {
		const existing = this.#topics.get(topic);
		if (existing?.channel.state === 'joined') return Promise.resolve({ status: 'ok', response: existing.joinResponse ?? {} });
		if (existing) return new Promise((resolve) => existing.waiters.push(resolve));
		this.#refusals.delete(topic);
		return new Promise((resolve) => {
			const channel = this.#ensureSocket().channel(topic, params);
			const entry: Topic = { channel, joinResponse: undefined, waiters: [resolve] };
			this.#topics.set(topic, entry);
			channel.onMessage = (event: string, payload: unknown) => {
				if (this.#topics.get(topic) === entry) this.#dispatch(topic, event, payload);
				return payload;
			};
			channel.onError((reason?: { source?: string }) => this.#channelErrored(entry, topic, reason));
			channel.onClose(() => this.#channelClosed(entry, topic));
			channel
				.join()
				.receive('ok', (response?: unknown) => {
					entry.joinResponse = response ?? {};
					this.#notifyChannel(topic);
					for (const waiter of entry.waiters.splice(0)) waiter({ status: 'ok', response: entry.joinResponse });
				})
				.receive('error', (response?: unknown) => this.#joinRefused(entry, topic, toErrorReply(response)))
				.receive('timeout', () => this.#notifyChannel(topic));
			this.#notifyChannel(topic);
		});
	}

	async leave(topic: string): Promise<void> {
		this.#refusals.delete(topic);
		const entry = this.#topics.get(topic);
		if (!entry) return;
		this.#drop(entry, topic);
		entry.channel.leave();
	}

	joinError(topic: string): ErrorReply | null {
		return this.#refusals.get(topic) ?? null;
	}

	channelState(topic: string): ChannelState {
		const state = this.#topics.get(topic)?.channel.state;
		return state === 'joined' || state === 'joining' || state === 'errored' ? state : 'closed';
	}

	subscribeChannel(topic: string, listener: (state: ChannelState) => void): Unsubscribe {
		return addTo(this.#channelListeners, topic, listener);
	}

	push(topic: string, event: string, payload: Record<string, unknown>, timeoutMs: number): Promise<PushResult> {
		const entry = this.#topics.get(topic);
		// Anything but an open socket and a joined channel would land in phoenix's buffer.
		if (!entry || !this.#socket?.isConnected() || entry.channel.state !== 'joined') {
			return Promise.resolve({ status: 'closed' });
		}
		return new Promise((resolve) => {
			const flight: InFlight = {
				topic,
				settle: (result) => {
					if (this.#inFlight.delete(flight)) resolve(result);
				}
			};
			this.#inFlight.add(flight);
			entry.channel
				.push(event, payload, timeoutMs)
				.receive('ok', (response?: unknown) => flight.settle({ status: 'ok', response: response ?? {} }))
				.receive('error', (response?: unknown) => flight.settle({ status: 'error', response: toErrorReply(response) }))
				.receive('timeout', () => flight.settle({ status: 'timeout' }));
		});
	}

	onMessage(topic: string, event: string, listener: (payload: unknown) => void): Unsubscribe {
		return addTo(this.#messageListeners, `${topic}\u0000${event}`, listener);
	}

	#ensureSocket(): PhoenixSocket {
		if (this.#socket) return this.#socket;
		const SocketClass = this.options.Socket ?? PhoenixSocket;
		// phoenix ≥ 1.8.9 takes a function and calls it on every connect (the types say string).
		const authToken = (() => this.options.token() ?? '') as unknown as string;
		const socket = new SocketClass(this.options.endpoint, { ...this.options.socketOptions, authToken });
		socket.onOpen(() => this.#socketOpened());
		socket.onClose(() => this.#socketClosed());
		this.#socket = socket;
		return socket;
	}

	#socketOpened(): void {
		this.#opened = true;
		this.#setStatus({ status: 'connected' });
		// Channels rejoin in their own open hooks, which run after this one.
		queueMicrotask(() => this.#notifyChannels());
	}

	#socketClosed(): void {
		if (!this.#wanted) return;
		this.#settleAll(() => true, { status: 'closed' });
		this.#notifyChannels();
		const wasOpen = this.#opened;
		this.#opened = false;
		if (wasOpen) this.#setStatus({ status: 'connecting', attempt: 1 });
		else void this.#checkSession();
	}

	/** A connect attempt failed before opening: a refused token, or no server? */
	async #checkSession(): Promise<void> {
		if (this.#checking) return;
		this.#checking = true;
		let result: Awaited<ReturnType<SessionCheck>>;
		try {
			result = await this.#sessionCheck();
		} catch {
			result = 'unreachable';
		} finally {
			this.#checking = false;
		}
		if (!this.#wanted || this.#status.status === 'connected') return;
		if (result === 'unauthorized') {
			this.#wanted = false;
			this.#socket?.disconnect();
			this.#setStatus({ status: 'disconnected', reason: 'unauthorized' });
		} else {
			this.#setStatus({ status: 'disconnected' });
		}
	}

	#joinRefused(entry: Topic, topic: string, reply: ErrorReply): void {
		if (this.#topics.get(topic) !== entry) return;
		for (const waiter of entry.waiters.splice(0)) waiter({ status: 'error', response: reply });
		if (FINAL_JOIN_REASONS.has(reply.reason)) {
			this.#drop(entry, topic);
			this.#refusals.set(topic, reply);
			entry.channel.leave();
		} else {
			this.#notifyChannel(topic); // errored; phoenix rejoins with its backoff
		}
	}

	#channelErrored(entry: Topic, topic: string, reason?: { source?: string }): void {
		if (this.#topics.get(topic) !== entry) return;
		const result: PushResult =
			reason?.source === 'transport' ? { status: 'closed' } : { status: 'error', response: { reason: 'internal' } };
		this.#settleAll((flight) => flight.topic === topic, result);
		this.#notifyChannel(topic);
	}

	#channelClosed(entry: Topic, topic: string): void {
		if (this.#topics.get(topic) === entry) this.#drop(entry, topic);
	}

	/** Forget a topic: its waiters and pushes settle `closed`. */
	#drop(entry: Topic, topic: string): void {
		this.#topics.delete(topic);
		for (const waiter of entry.waiters.splice(0)) waiter({ status: 'closed' });
		this.#settleAll((flight) => flight.topic === topic, { status: 'closed' });
		this.#notifyChannel(topic);
	}

	#settleAll(match: (flight: InFlight) => boolean, result: PushResult): void {
		for (const flight of [...this.#inFlight]) if (match(flight)) flight.settle(result);
	}

	#dispatch(topic: string, event: string, payload: unknown): void {
		if (event.startsWith('phx_') || event.startsWith('chan_reply_')) return;
		for (const listener of [...(this.#messageListeners.get(`${topic}\u0000${event}`) ?? [])]) listener(payload);
	}

	#setStatus(status: TransportStatus): void {
		if (JSON.stringify(status) === JSON.stringify(this.#status)) return;
		this.#status = status;
		for (const listener of [...this.#statusListeners]) listener(status);
	}

	#notifyChannels(): void {
		for (const topic of new Set([...this.#topics.keys(), ...this.#reported.keys()])) this.#notifyChannel(topic);
	}

	#notifyChannel(topic: string): void {
		const state = this.channelState(topic);
		if ((this.#reported.get(topic) ?? 'closed') === state) return;
		if (state === 'closed') this.#reported.delete(topic);
		else this.#reported.set(topic, state);
		for (const listener of [...(this.#channelListeners.get(topic) ?? [])]) listener(state);
	}
}

/** An error reply as the contract has it; an unknown reason counts as a server fault. */
function toErrorReply(response: unknown): ErrorReply {
	const body = (response ?? {}) as { reason?: unknown; message?: unknown };
	const reply: ErrorReply = { reason: isReason(body.reason) ? body.reason : 'internal' };
	if (typeof body.message === 'string') reply.message = body.message;
	return reply;
}

function addTo<T>(map: Map<string, Set<T>>, key: string, value: T): Unsubscribe {
	let set = map.get(key);
	if (!set) map.set(key, (set = new Set()));
	set.add(value);
	return () => {
		set.delete(value);
		if (set.size === 0) map.delete(key);
	};
}
