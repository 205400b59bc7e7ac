/**
 * Topic -> the joined channels in this process, for broadcast fan-out. A
 * broadcast costs O(subscribers of its topic): the frame is encoded once and
 * the same bytes are written to every subscriber (Phoenix's "fastlane").
 */
import type { Channel } from './channel.js';
import type { Serializer } from './serializer.js';

/** Subscribers by topic; empty topics are dropped so the map tracks live rooms only. */
export class TopicIndex<A> {
	private readonly byTopic = new Map<string, Set<Channel<A>>>();

	add(channel: Channel<A>): void {
		let subscribers = this.byTopic.get(channel.topic);
		if (!subscribers) {
			subscribers = new Set();
			this.byTopic.set(channel.topic, subscribers);
		}
		subscribers.add(channel);
	}

	remove(channel: Channel<A>): void {
		const subscribers = this.byTopic.get(channel.topic);
		if (!subscribers) return;
		subscribers.delete(channel);
		if (subscribers.size === 0) this.byTopic.delete(channel.topic);
	}

	/**
	 * Write the broadcast to every subscriber of `topic` but the excluded
	 * channel. `frameFor` gives the encoded frame (UTF-8 JSON) for a
	 * serializer; it is called per subscriber and must memoize, so each
	 * serializer in use encodes once. Returns how many got it.
	 */
	fanOut(topic: string, frameFor: (serializer: Serializer) => Buffer, except?: { connectionId: string; joinRef: string }): number {
		const subscribers = this.byTopic.get(topic);
		if (!subscribers) return 0;
		let sent = 0;
		for (const channel of subscribers) {
			const conn = channel.conn;
			if (except && conn.id === except.connectionId && channel.joinRef === except.joinRef) continue;
			conn.send(frameFor(conn.serializer), false);
			sent++;
		}
		return sent;
	}

	/** Number of topics with at least one subscriber here. */
	get size(): number {
		return this.byTopic.size;
	}
}
