/**
 * The client half of the in-memory transport pair: implements the `Transport`
 * port over a `MemoryNetwork` (see `memory-transport.ts` for the pair).
 *
 * Like the phoenix adapter must: a push to a topic that is not joined, or
 * made while disconnected, resolves `closed` at once (nothing is buffered);
 * pushes in flight when the connection drops resolve `closed`; the client
 * reconnects after `reconnectAfterMs(tries)` and rejoins its topics.
 */
import type { ChannelState, Clock, PushResult, TimerHandle, Transport, TransportStatus, Unsubscribe } from '../ports.js';
import type { MemoryNetwork } from './memory-network.js';
import type { ClientFrame, MemoryServer, ServerFrame } from './memory-server.js';

/** What the client needs from the pair that owns it. */
export interface ClientLink {
	readonly clock: Clock;
	readonly network: MemoryNetwork;
	readonly server: MemoryServer;
	/** End the current connection on both sides. */
	closeConnection(): void;
	/** One connection attempt: true when it opened (or was refused for good). */
	tryOpen(): boolean;
}

export interface MemoryClientOptions {
	/** Delay before reconnect attempt `tries` (from 1). */
	reconnectAfterMs: (tries: number) => number;
	/** A join with no reply in this time is sent again. */
	joinTimeoutMs: number;
}

interface PendingPush {
	topic: string;
	timer: TimerHandle;
	resolve: (result: PushResult) => void;
}

interface WantedTopic {
	params: Record<string, unknown>;
	waiters: Array<(result: PushResult) => void>;
}

/** The client half: a `Transport`. */
export class MemoryClientTransport implements Transport {
	#status: TransportStatus = { status: 'disconnected' };
	#wantConnected = false;
	#tries = 0;
	#reconnectTimer: TimerHandle | null = null;
	#ref = 0;
	#pending = new Map<number, PendingPush>();
	#pendingJoins = new Map<number, string>();
	#wanted = new Map<string, WantedTopic>();
	#channels = new Map<string, ChannelState>();
	#refusals = new Map<string, unknown>();
	#statusListeners = new Set<(status: TransportStatus) => void>();
	#channelListeners = new Map<string, Set<(state: ChannelState) => void>>();
	#messageListeners = new Map<string, Set<(payload: unknown) => void>>();

	constructor(
		private readonly pair: ClientLink,
		private readonly options: MemoryClientOptions
	) {}

	connect(): void {
		this.#wantConnected = true;
		if (this.#status.status !== 'disconnected') return;
		this.#tries = 0;
		this.#attempt();
	}

	disconnect(): void {
		this.#wantConnected = false;
		if (this.#reconnectTimer !== null) this.pair.clock.clearTimeout(this.#reconnectTimer);
		this.#reconnectTimer = null;
		if (this.pair.network.connected) this.pair.closeConnection();
		this.#setStatus({ status: 'disconnected' });
	}

	reconnectNow(): void {
		if (!this.#wantConnected) return;
		this.disconnect();
		this.connect();
	}

	status(): TransportStatus {
		return this.#status;
	}

	subscribeStatus(listener: (status: TransportStatus) => void): Unsubscribe {
		this.#statusListeners.add(listener);
		return () => this.#statusListeners.delete(listener);
	}

	join(topic: string, params: Record<string, unknown> = {}): Promise<PushResult> {
		this.#refusals.delete(topic);
		return new Promise((resolve) => {
			const wanted = this.#wanted.get(topic);
			if (wanted && this.channelState(topic) === 'joined') return resolve({ status: 'ok', response: {} });
			if (wanted) return wanted.waiters.push(resolve);
			this.#wanted.set(topic, { params, waiters: [resolve] });
			this.#setChannel(topic, 'joining');
			if (this.#status.status === 'connected') this.#sendJoin(topic);
		});
	}

	async leave(topic: string): Promise<void> {
		const wanted = this.#wanted.get(topic);
		this.#wanted.delete(topic);
		for (const resolve of wanted?.waiters ?? []) resolve({ status: 'closed' });
		this.#failPending((p) => p.topic === topic);
		if (this.#status.status === 'connected') this.#send({ kind: 'leave', ref: ++this.#ref, topic });
		this.#setChannel(topic, 'closed');
	}

	channelState(topic: string): ChannelState {
		return this.#channels.get(topic) ?? 'closed';
	}

	joinError(topic: string): unknown {
		return this.#refusals.get(topic) ?? null;
	}

	subscribeChannel(topic: string, listener: (state: ChannelState) => void): Unsubscribe {
		return addTo(this.#channelListeners, topic, listener);
	}

	push(topic: string, event: string, payload: Record<string, unknown>, timeoutMs: number): Promise<PushResult> {
		if (this.#status.status !== 'connected' || this.channelState(topic) !== 'joined') {
			return Promise.resolve({ status: 'closed' });
		}
		return new Promise((resolve) => {
			const ref = ++this.#ref;
			const timer = this.pair.clock.setTimeout(() => {
				this.#pending.delete(ref);
				resolve({ status: 'timeout' });
			}, timeoutMs);
			this.#pending.set(ref, { topic, timer, resolve });
			this.#send({ kind: 'push', ref, topic, event, payload: structuredClone(payload) });
		});
	}

	onMessage(topic: string, event: string, listener: (payload: unknown) => void): Unsubscribe {
		return addTo(this.#messageListeners, `${topic}\u0000${event}`, listener);
	}

	/** Pushes waiting for a reply. */
	get inFlight(): number {
		return this.#pending.size;
	}

	/** @internal */
	connectionOpened(): void {
		this.#tries = 0;
		this.#setStatus({ status: 'connected' });
		for (const topic of this.#wanted.keys()) this.#sendJoin(topic);
	}

	/** @internal The link dropped (cut, unreachable, or our own disconnect). */
	connectionClosed(): void {
		this.#pendingJoins.clear();
		this.#failPending(() => true);
		for (const topic of this.#wanted.keys()) this.#setChannel(topic, 'errored');
		if (this.#wantConnected) this.#scheduleReconnect();
	}

	/** @internal A server frame arrived. */
	receive(frame: ServerFrame): void {
		if (frame.kind === 'message') {
			if (this.channelState(frame.topic) !== 'joined') return;
			for (const listener of [...(this.#messageListeners.get(`${frame.topic}\u0000${frame.event}`) ?? [])]) {
				listener(structuredClone(frame.payload));
			}
			return;
		}
		const joinTopic = this.#pendingJoins.get(frame.ref);
		if (joinTopic !== undefined) {
			this.#pendingJoins.delete(frame.ref);
			const wanted = this.#wanted.get(joinTopic);
			if (!wanted) return;
			if (frame.reply.status === 'error') {
				this.#wanted.delete(joinTopic);
				this.#refusals.set(joinTopic, structuredClone(frame.reply.response));
			}
			this.#setChannel(joinTopic, frame.reply.status === 'ok' ? 'joined' : 'closed');
			for (const resolve of wanted.waiters.splice(0)) resolve(structuredClone(frame.reply));
			return;
		}
		const pending = this.#pending.get(frame.ref);
		if (!pending) return; // late or duplicated reply
		this.#pending.delete(frame.ref);
		this.pair.clock.clearTimeout(pending.timer);
		pending.resolve(structuredClone(frame.reply));
	}

	/** @internal The server refused the connection. */
	refused(reason: 'unauthorized'): void {
		this.#wantConnected = false;
		this.#setStatus({ status: 'disconnected', reason });
	}

	#attempt(): void {
		this.#tries++;
		this.#setStatus({ status: 'connecting', attempt: this.#tries });
		this.pair.clock.setTimeout(() => {
			if (!this.#wantConnected || this.#status.status !== 'connecting') return;
			if (!this.pair.tryOpen()) this.#scheduleReconnect();
		}, this.pair.network.faults.latencyMs);
	}

	#scheduleReconnect(): void {
		this.#setStatus({ status: 'connecting', attempt: this.#tries + 1 });
		this.#reconnectTimer = this.pair.clock.setTimeout(() => {
			this.#reconnectTimer = null;
			if (this.#wantConnected) this.#attempt();
		}, this.options.reconnectAfterMs(this.#tries + 1));
	}

	#sendJoin(topic: string): void {
		const wanted = this.#wanted.get(topic);
		if (!wanted) return;
		const ref = ++this.#ref;
		this.#pendingJoins.set(ref, topic);
		this.#setChannel(topic, 'joining');
		this.#send({ kind: 'join', ref, topic, payload: structuredClone(wanted.params) });
		this.pair.clock.setTimeout(() => {
			if (!this.#pendingJoins.delete(ref)) return;
			if (this.#status.status === 'connected' && this.#wanted.has(topic)) this.#sendJoin(topic);
		}, this.options.joinTimeoutMs);
	}

	#send(frame: ClientFrame): void {
		this.pair.network.send('toServer', frame, (f) => this.pair.server.receive(f));
	}

	#failPending(match: (pending: PendingPush) => boolean): void {
		for (const [ref, pending] of this.#pending) {
			if (!match(pending)) continue;
			this.#pending.delete(ref);
			this.pair.clock.clearTimeout(pending.timer);
			pending.resolve({ status: 'closed' });
		}
	}

	#setStatus(status: TransportStatus): void {
		const same = status.status === this.#status.status && JSON.stringify(status) === JSON.stringify(this.#status);
		if (same) return;
		this.#status = status;
		for (const listener of [...this.#statusListeners]) listener(status);
	}

	#setChannel(topic: string, state: ChannelState): void {
		if (this.channelState(topic) === state) return;
		if (state === 'closed') this.#channels.delete(topic);
		else this.#channels.set(topic, state);
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
