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
 *        │      (1006 before open): ask sessionCheck (when the app gave one)
 *        ├── 'unauthorized': disconnected {reason: 'unauthorized'}, no more attempts
 *        └── otherwise: disconnected, phoenix keeps retrying with its backoff
 *
 * A close the kit did not ask for always leads to a reconnect: phoenix.js
 * before 1.8.13 does not reconnect after a clean close (code 1000), which
 * Phoenix servers before 1.8.9 send on a server-side `disconnect`.
 *
 * Short-lived tokens (`refreshToken`, e.g. a `SocketTokenSource`): with no
 * token at hand, `connect()` fetches one first; after a refused attempt,
 * `refreshToken` is the session check (a fresh token is 'ok' and phoenix's
 * next attempt carries it; a refused cookie is 'unauthorized').
 *
 * The token goes as phoenix's `authToken` (the `Sec-WebSocket-Protocol`
 * header; Phoenix ≥ 1.8 with `auth_token: true`) or, with `tokenAs:
 * 'param'`, as a connect param (`?token=`; Phoenix 1.7's `connect/3` params).
 *
 * Per-topic work (join waiters, pushes in flight, refused joins) is in
 * `phoenix-topic.ts`.
 */
import { Socket as PhoenixSocket, type SocketConnectOption } from 'phoenix';
import { defaultClassify, type ErrorClassifier } from '../core/classify.js';
import type { ChannelState, PushResult, Transport, TransportStatus, Unsubscribe } from '../ports.js';
import { PhoenixTopic } from './phoenix-topic.js';
import type { SessionCheck, SessionCheckResult } from './session-check.js';

export interface PhoenixTransportOptions {
	/** Socket endpoint, as phoenix takes it: `'/socket'` or `'ws://host/socket'`. */
	endpoint: string;
	/** The current token; read again on every connect attempt. Null: signed out (or, with `refreshToken`, none fetched yet). */
	token: () => string | null;
	/**
	 * Fetches a fresh token (short-lived socket tokens): called before
	 * connecting when `token()` is null, and after a refused attempt in place
	 * of `sessionCheck` ('unauthorized': signed out).
	 */
	refreshToken?: (() => Promise<SessionCheckResult>) | null;
	/** Passed to the phoenix `Socket` (e.g. `transport: WebSocket` from `ws` in Node, `heartbeatIntervalMs`). */
	socketOptions?: Partial<SocketConnectOption>;
	/** The `Socket` class (default: phoenix's own). */
	Socket?: typeof PhoenixSocket;
	/**
	 * Tells a refused token from no network after a connect attempt fails
	 * before opening (a browser WebSocket cannot see the HTTP 403). Without
	 * one, a refused token looks like a server that cannot be reached.
	 */
	sessionCheck?: SessionCheck | null;
	/** How the token travels: phoenix's `authToken` (default) or a connect param. */
	tokenAs?: 'authToken' | 'param';
	/** The connect param's name with `tokenAs: 'param'` (default `token`). */
	tokenParam?: string;
	/** Decides which join refusals are final (verdict other than `retry`); default: the Outbox reason table. */
	classify?: ErrorClassifier;
}

/** The `Transport` port over phoenix. */
export type PhoenixTransport = Transport;

/** Delay before the kit's own reconnect after an unrequested clean close (phoenix's default schedule). */
const reconnectDelayMs = (tries: number) => [10, 50, 100, 150, 200, 250, 500, 1000, 2000][tries - 1] ?? 5000;

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
	if (options.tokenAs !== undefined && options.tokenAs !== 'authToken' && options.tokenAs !== 'param') {
		throw new TypeError(`createPhoenixTransport: tokenAs must be 'authToken' or 'param', got ${String(options.tokenAs)}`);
	}
	if (options.sessionCheck !== undefined && options.sessionCheck !== null && typeof options.sessionCheck !== 'function') {
		throw new TypeError('createPhoenixTransport: sessionCheck must be a function () => Promise<"ok" | "unauthorized" | "unreachable">, or null');
	}
	if (options.refreshToken !== undefined && options.refreshToken !== null && typeof options.refreshToken !== 'function') {
		throw new TypeError('createPhoenixTransport: refreshToken must be a function () => Promise<"ok" | "unauthorized" | "unreachable">, or null');
	}
	return new PhoenixChannelTransport(options);
}

class PhoenixChannelTransport implements PhoenixTransport {
	#socket: PhoenixSocket | null = null;
	#status: TransportStatus = { status: 'disconnected' };
	#wanted = false;
	#opened = false;
	#checking = false;
	#topics = new Map<string, PhoenixTopic>();
	#refusals = new Map<string, unknown>();
	#cleanCloses = 0;
	#reconnectTimer: ReturnType<typeof setTimeout> | null = null;
	#reported = new Map<string, ChannelState>();
	#statusListeners = new Set<(status: TransportStatus) => void>();
	#channelListeners = new Map<string, Set<(state: ChannelState) => void>>();
	#messageListeners = new Map<string, Set<(payload: unknown) => void>>();
	readonly #sessionCheck: SessionCheck | null;
	readonly #classify: ErrorClassifier;

	constructor(private readonly options: PhoenixTransportOptions) {
		// A token refresh tells a refused session from no network as well, and fetches the token the next attempt needs.
		this.#sessionCheck = options.refreshToken ?? options.sessionCheck ?? null;
		this.#classify = options.classify ?? defaultClassify;
	}

	connect(): void {
		if (this.#wanted) return;
		const refresh = this.options.refreshToken ?? null;
		if (!this.options.token() && !refresh) return this.#setStatus({ status: 'disconnected', reason: 'unauthorized' });
		this.#wanted = true;
		this.#opened = false;
		this.#setStatus({ status: 'connecting', attempt: 1 });
		this.#open();
	}

	/** Start a connect attempt; with no token at hand and a `refreshToken`, fetch one first. */
	#open(): void {
		const refresh = this.options.refreshToken;
		if (this.options.token() || !refresh) return void this.#ensureSocket().connect();
		void refresh()
			.catch((): SessionCheckResult => 'unreachable')
			.then((result) => {
				if (!this.#wanted || this.#socket?.isConnected()) return;
				if (result === 'unauthorized') {
					this.#wanted = false;
					this.#socket?.disconnect();
					return this.#setStatus({ status: 'disconnected', reason: 'unauthorized' });
				}
				// No token when unreachable: the attempt fails, and phoenix's backoff retries (refreshing after each).
				this.#ensureSocket().connect();
			});
	}

	disconnect(): void {
		this.#wanted = false;
		this.#cancelReconnect();
		this.#settleAll();
		this.#socket?.disconnect();
		this.#setStatus({ status: 'disconnected' });
		this.#notifyChannels();
	}

	reconnectNow(): void {
		if (!this.#wanted || !this.#socket) return;
		this.#cancelReconnect();
		this.#settleAll();
		this.#opened = false;
		// disconnect() ends the connection at once (its close event is then ignored);
		// connect() opens the next one without waiting for phoenix's backoff.
		this.#socket.disconnect();
		this.#open();
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
		if (existing) return existing.whenJoined();
		this.#refusals.delete(topic);
		const entry: PhoenixTopic = new PhoenixTopic(
			this.#ensureSocket(),
			topic,
			params,
			{
				message: (event, payload) => {
					for (const listener of [...(this.#messageListeners.get(`${topic}\u0000${event}`) ?? [])]) listener(payload);
				},
				changed: () => this.#notifyChannel(topic),
				ended: (refusal) => {
					if (this.#topics.get(topic) === entry) this.#topics.delete(topic);
					if (refusal !== null && refusal !== undefined) this.#refusals.set(topic, refusal);
					this.#notifyChannel(topic);
				}
			},
			this.#classify
		);
		this.#topics.set(topic, entry);
		return entry.join();
	}

	async leave(topic: string): Promise<void> {
		this.#refusals.delete(topic);
		this.#topics.get(topic)?.leave();
	}

	joinError(topic: string): unknown {
		return this.#refusals.get(topic) ?? null;
	}

	channelState(topic: string): ChannelState {
		return this.#topics.get(topic)?.state ?? 'closed';
	}

	subscribeChannel(topic: string, listener: (state: ChannelState) => void): Unsubscribe {
		return addTo(this.#channelListeners, topic, listener);
	}

	push(topic: string, event: string, payload: Record<string, unknown>, timeoutMs: number): Promise<PushResult> {
		const entry = this.#topics.get(topic);
		if (!entry) return Promise.resolve({ status: 'closed' });
		return entry.push(event, payload, timeoutMs, this.#socket?.isConnected() ?? false);
	}

	onMessage(topic: string, event: string, listener: (payload: unknown) => void): Unsubscribe {
		return addTo(this.#messageListeners, `${topic}\u0000${event}`, listener);
	}

	#ensureSocket(): PhoenixSocket {
		if (this.#socket) return this.#socket;
		const { Socket: SocketClass = PhoenixSocket, socketOptions = {}, tokenAs = 'authToken', tokenParam = 'token', token } = this.options;
		let socket: PhoenixSocket;
		if (tokenAs === 'param') {
			// phoenix calls `params` on every connect: the token is read afresh each time.
			const base = socketOptions.params;
			const params = () => ({ ...(typeof base === 'function' ? base() : base), [tokenParam]: token() ?? '' });
			socket = new SocketClass(this.options.endpoint, { ...socketOptions, params });
		} else {
			// phoenix ≥ 1.8.9 takes a function and calls it on every connect (the types say string).
			const authToken = (() => token() ?? '') as unknown as string;
			socket = new SocketClass(this.options.endpoint, { ...socketOptions, authToken });
		}
		socket.onOpen(() => this.#socketOpened());
		socket.onClose((event?: { code?: number }) => this.#socketClosed(event?.code));
		this.#socket = socket;
		return socket;
	}

	#socketOpened(): void {
		this.#opened = true;
		this.#cleanCloses = 0;
		this.#cancelReconnect();
		this.#setStatus({ status: 'connected' });
		// Channels rejoin in their own open hooks, which run after this one.
		queueMicrotask(() => this.#notifyChannels());
	}

	#socketClosed(code: number | undefined): void {
		if (!this.#wanted) return;
		this.#settleAll();
		this.#notifyChannels();
		const wasOpen = this.#opened;
		this.#opened = false;
		if (code === 1000) this.#reconnectAfterCleanClose();
		if (wasOpen) this.#setStatus({ status: 'connecting', attempt: 1 });
		else void this.#checkSession();
	}

	/** The server closed cleanly (1000) and older phoenix.js gives up: reconnect unless phoenix already is. */
	#reconnectAfterCleanClose(): void {
		this.#cancelReconnect();
		const delay = reconnectDelayMs(++this.#cleanCloses);
		this.#reconnectTimer = setTimeout(() => {
			this.#reconnectTimer = null;
			const socket = this.#socket;
			if (!this.#wanted || !socket || socket.connectionState() !== 'closed') return;
			socket.disconnect();
			socket.connect();
		}, delay);
	}

	#cancelReconnect(): void {
		if (this.#reconnectTimer !== null) clearTimeout(this.#reconnectTimer);
		this.#reconnectTimer = null;
	}

	/** A connect attempt failed before opening: a refused token, or no server? */
	async #checkSession(): Promise<void> {
		if (this.#sessionCheck === null) return this.#setStatus({ status: 'disconnected' });
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

	/** The socket went away: every push in flight is `closed` (never left to phoenix's timeout). */
	#settleAll(): void {
		for (const entry of this.#topics.values()) entry.settle({ status: 'closed' });
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

function addTo<T>(map: Map<string, Set<T>>, key: string, value: T): Unsubscribe {
	let set = map.get(key);
	if (!set) map.set(key, (set = new Set()));
	set.add(value);
	return () => {
		set.delete(value);
		if (set.size === 0) map.delete(key);
	};
}
