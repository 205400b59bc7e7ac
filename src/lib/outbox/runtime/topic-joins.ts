/**
 * Which topics the engine keeps joined, and what it hears about them: every
 * (re)join (the transport rejoins by itself after a reconnect) and a refused
 * join with its `reason`. Held topics and lanes with queued items share one
 * join per topic. A channel the server closes (`phx_close`: Phoenix does it to
 * the older channel when the same topic is joined twice, say) is never
 * rejoined by phoenix.js; it is forgotten here and `closed` tells the engine,
 * which joins it again while it is still wanted. A refusal is heard the same
 * way, from the channel's state (the transport ends the topic and keeps the
 * reply as `joinError`), so a rejoin refused long after the first join
 * settled is a refusal too: forgotten, and joined again at the next `ensure`.
 */
import type { Transport, Unsubscribe } from '../ports.js';

export interface TopicJoinHooks {
	/** The topic is joined (first time or again after a reconnect). */
	joined(topic: string): void;
	/** The server refused the join or a rejoin for good (the transport decided: it will not rejoin); the topic is no longer wanted. */
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
				if (state === 'closed' && this.#wanted.get(topic) === stop) return this.#ended(topic);
				if (state !== 'joined') return;
				seenJoin = true;
				this.#hooks.joined(topic);
			});
			this.#wanted.set(topic, stop);
			void this.#transport.join(topic).then((result) => {
				if (this.#wanted.get(topic) !== stop) return;
				// Joined before we listened (someone else joined it): report it once.
				if (result.status === 'ok' && !seenJoin) this.#hooks.joined(topic);
				// A refusal the listener did not hear (the channel never reported a state): the same ending.
				if (result.status === 'error') this.#ended(topic, result.response);
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

	/**
	 * The transport ended a wanted topic: refused for good (the first join or
	 * any rejoin phoenix made by itself, after a reconnect or a crash), or
	 * closed by the server. Either way it is forgotten, so `ensure` joins it again.
	 */
	#ended(topic: string, refusal: unknown = this.#transport.joinError(topic)): void {
		this.#forget(topic);
		if (refusal === null || refusal === undefined) this.#hooks.closed(topic);
		else this.#hooks.refused(topic, refusal);
	}

	#forget(topic: string): void {
		this.#wanted.get(topic)?.();
		this.#wanted.delete(topic);
	}
}
