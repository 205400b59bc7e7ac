/**
 * Which topics the engine keeps joined, and what it hears about them: every
 * (re)join (the transport rejoins by itself after a reconnect) and a refused
 * join with its `reason`. Held topics and lanes with queued items share one
 * join per topic. A channel the server closes (`phx_close`: Phoenix does it to
 * the older channel when the same topic is joined twice, say) is never
 * rejoined by phoenix.js; it is forgotten here and `closed` tells the engine,
 * which joins it again while it is still wanted.
 */
import type { Transport, Unsubscribe } from '../ports.js';

export interface TopicJoinHooks {
	/** The topic is joined (first time or again after a reconnect). */
	joined(topic: string): void;
	/** The server refused the join for good (the transport decided: it will not rejoin); the topic is no longer wanted. */
	refused(topic: string, reply: unknown): void;
	/** The server closed the channel while it was wanted (not a refusal): it is forgotten; `ensure` joins it again. */
	closed(topic: string): void;
}

export class TopicJoins {
	#transport: Transport;
	#hooks: TopicJoinHooks;
	#wanted = new Map<string, Unsubscribe>();

	constructor(transport: Transport, hooks: TopicJoinHooks) {
		this.#transport = transport;
		this.#hooks = hooks;
	}

	isJoined(topic: string): boolean {
		return this.#transport.channelState(topic) === 'joined';
	}

	/** Join `topic` unless already wanted; returns whether it is joined now. */
	ensure(topic: string): boolean {
		if (!this.#wanted.has(topic)) {
			let seenJoin = false;
			const stop = this.#transport.subscribeChannel(topic, (state) => {
				if (state === 'closed' && this.#wanted.get(topic) === stop && this.#transport.joinError(topic) === null) {
					this.#forget(topic);
					this.#hooks.closed(topic);
					return;
				}
				if (state !== 'joined') return;
				seenJoin = true;
				this.#hooks.joined(topic);
			});
			this.#wanted.set(topic, stop);
			void this.#transport.join(topic).then((result) => {
				if (!this.#wanted.has(topic)) return;
				// Joined before we listened (someone else joined it): report it once.
				if (result.status === 'ok' && !seenJoin) this.#hooks.joined(topic);
				if (result.status !== 'error') return;
				this.#forget(topic);
				this.#hooks.refused(topic, result.response);
			});
		}
		return this.isJoined(topic);
	}

	/** Leave one topic (released by its last holder); a lane that still needs it joins it again. */
	leave(topic: string): void {
		if (!this.#wanted.has(topic)) return;
		this.#forget(topic);
		void this.#transport.leave(topic);
	}

	/** Leave every topic (user switch, close). */
	leaveAll(): void {
		for (const topic of [...this.#wanted.keys()]) {
			this.#forget(topic);
			void this.#transport.leave(topic);
		}
	}

	#forget(topic: string): void {
		this.#wanted.get(topic)?.();
		this.#wanted.delete(topic);
	}
}
