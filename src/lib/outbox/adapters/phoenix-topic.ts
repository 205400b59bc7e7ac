/**
 * One topic of the phoenix transport: a phoenix `Channel` with the promises
 * waiting on its join and the pushes in flight on it. It never lets phoenix
 * buffer a push (a push made while not joined resolves `closed` at once) and
 * settles pushes in flight as soon as the channel goes away:
 *
 *   channel errored by the transport (socket closed)  ──> `closed`
 *   channel crashed (`phx_error` from the server)      ──> `error {reason: 'internal'}`
 *   join refused for good (the classifier's verdict   ──> left at once, never retried
 *   is not `retry`; phoenix would retry it for ever)
 */
import type { Channel, Socket } from 'phoenix';
import type { ErrorClassifier } from '../core/classify.js';
import { classifyReply } from '../core/classify.js';
import type { ChannelState, PushResult } from '../ports.js';

/** What a topic tells the transport that owns it. */
export interface TopicHooks {
	/** A server push (`new_message`, `sync:complete`...) arrived on the topic. */
	message(event: string, payload: unknown): void;
	/** The channel's state may have changed. */
	changed(): void;
	/** The join was refused for good (with the server's reply), or the server closed the channel (null): forget this topic. */
	ended(refusal: unknown): void;
}

/**
 * @example
 * const topic = new PhoenixTopic(socket, 'room:lobby', {}, hooks);
 * const joined = await topic.join();
 * const result = await topic.push('send_message', { client_id, body }, 10_000, socket.isConnected());
 */
export class PhoenixTopic {
	readonly channel: Channel;
	#joinResponse: unknown = undefined;
	#waiters: Array<(result: PushResult) => void> = [];
	#inFlight = new Set<(result: PushResult) => void>();
	#ended = false;

	constructor(
		socket: Socket,
		topic: string,
		params: Record<string, unknown>,
		private readonly hooks: TopicHooks,
		private readonly classify: ErrorClassifier
	) {
		const channel = socket.channel(topic, params);
		this.channel = channel;
		channel.onMessage = (event: string | null, payload: unknown) => {
			// phoenix.js calls this with a null event when a join times out while the socket cannot open.
			if (!this.#ended && typeof event === 'string' && !event.startsWith('phx_') && !event.startsWith('chan_reply_')) hooks.message(event, payload);
			return payload;
		};
		channel.onError((reason?: { source?: string }) => {
			if (this.#ended) return;
			const transport = reason?.source === 'transport';
			this.settle(transport ? { status: 'closed' } : { status: 'error', response: { reason: 'internal' } });
			hooks.changed();
		});
		channel.onClose(() => {
			if (!this.#ended) this.#end(null); // phx_close from the server: phoenix never rejoins it
		});
	}

	/** Send the join (once); resolves with its first reply. Phoenix rejoins by itself after that. */
	join(): Promise<PushResult> {
		const reply = this.whenJoined();
		this.channel
			.join()
			.receive('ok', (response?: unknown) => {
				this.#joinResponse = response ?? {};
				this.hooks.changed();
				for (const waiter of this.#waiters.splice(0)) waiter({ status: 'ok', response: this.#joinResponse });
			})
			.receive('error', (response?: unknown) => this.#refused(response ?? {}))
			.receive('timeout', () => this.hooks.changed());
		this.hooks.changed();
		return reply;
	}

	/** The join reply: at once when joined, else the next one. */
	whenJoined(): Promise<PushResult> {
		if (this.state === 'joined') return Promise.resolve({ status: 'ok', response: this.#joinResponse ?? {} });
		return new Promise((resolve) => this.#waiters.push(resolve));
	}

	get state(): ChannelState {
		const state = this.#ended ? 'closed' : this.channel.state;
		return state === 'joined' || state === 'joining' || state === 'errored' ? state : 'closed';
	}

	/** Push now, or resolve `closed` without touching phoenix when the socket is down or the channel not joined. */
	push(event: string, payload: Record<string, unknown>, timeoutMs: number, socketOpen: boolean): Promise<PushResult> {
		if (!socketOpen || this.state !== 'joined') return Promise.resolve({ status: 'closed' });
		return new Promise((resolve) => {
			const settle = (result: PushResult) => {
				if (this.#inFlight.delete(settle)) resolve(result);
			};
			this.#inFlight.add(settle);
			this.channel
				.push(event, payload, timeoutMs)
				.receive('ok', (response?: unknown) => settle({ status: 'ok', response: response ?? {} }))
				.receive('error', (response?: unknown) => settle({ status: 'error', response: response ?? {} }))
				.receive('timeout', () => settle({ status: 'timeout' }));
		});
	}

	/** Settle every push in flight with `result` (the socket closed: `closed`). */
	settle(result: PushResult): void {
		for (const settle of [...this.#inFlight]) settle(result);
	}

	/** Leave the topic: waiters and pushes settle `closed`, phoenix stops rejoining. */
	leave(): void {
		if (this.#ended) return;
		this.#end(null);
		this.channel.leave();
	}

	#refused(reply: unknown): void {
		if (this.#ended) return;
		if (classifyReply(this.classify, reply).verdict === 'retry') return this.hooks.changed(); // errored; phoenix retries with backoff
		for (const waiter of this.#waiters.splice(0)) waiter({ status: 'error', response: reply });
		this.#end(reply);
		this.channel.leave();
	}

	#end(refusal: unknown): void {
		this.#ended = true;
		for (const waiter of this.#waiters.splice(0)) waiter({ status: 'closed' });
		this.settle({ status: 'closed' });
		this.hooks.ended(refusal);
	}
}
