/**
 * Topic -> the joined channels in this process, for broadcast fan-out. A
 * broadcast costs O(subscribers of its topic): the frame is encoded once and
 * the same bytes are written to every subscriber (Phoenix's "fastlane").
 */
import type { Channel } from './channel.js';
import type { PreparedBroadcast } from './prepared-broadcast.js';

/** Subscribers by topic; empty topics are dropped so the map tracks live rooms only. */
export class TopicIndex<A> {
	private readonly byTopic = new Map<string, Set<Channel<A>>>();
	/** Subscriptions across every topic (joined channels). */
	#channels = 0;

	add(channel: Channel<A>): void {
		let subscribers = this.byTopic.get(channel.topic);
		if (!subscribers) {
			subscribers = new Set();
			this.byTopic.set(channel.topic, subscribers);
		}
		if (!subscribers.has(channel)) this.#channels++;
		subscribers.add(channel);
	}

	remove(channel: Channel<A>): void {
		const subscribers = this.byTopic.get(channel.topic);
		if (!subscribers) return;
		if (subscribers.delete(channel)) this.#channels--;
		if (subscribers.size === 0) this.byTopic.delete(channel.topic);
	}

	/**
	 * Send the broadcast to every subscriber of `its topic` but the excluded
	 * channel (encoded and framed once per serializer by `PreparedBroadcast`).
	 * Returns how many got it.
	 */
	fanOut(broadcast: PreparedBroadcast, except?: { connectionId: string; joinRef: string }): number {
		const subscribers = this.byTopic.get(broadcast.topic);
		if (!subscribers) return 0;
		let sent = 0;
		for (const channel of subscribers) {
			const conn = channel.conn;
			if (except && conn.id === except.connectionId && channel.joinRef === except.joinRef) continue;
			conn.sendBroadcast(broadcast);
			sent++;
		}
		return sent;
	}

	/** Number of joined channels here, over all topics. */
	get channelCount(): number {
		return this.#channels;
	}

	/** Number of topics with at least one subscriber here. */
	get size(): number {
		return this.byTopic.size;
	}
}
