/**
 * One WebSocket and the channels joined over it. Kept small on purpose (the
 * server must hold 100k of these): no timers, no closures, a lazily refilled
 * rate-limit bucket and the time of the last frame for the idle sweep.
 */
import type { Channel } from './channel.js';
import type { ResolvedOptions } from './options.js';
import type { PreparedBroadcast } from './prepared-broadcast.js';
import type { TokenBucket } from './rate-limit.js';
import type { Serializer } from './serializer.js';
import type { TopicIndex } from './topic-index.js';
import type { PubSubMessage } from './types.js';
import { frameOf, rawSocketOf, type WriteBatch } from './write-batch.js';

/** Bytes a socket may have queued and unsent before it counts as a slow consumer. */
export const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

/** What connections and channels need from the server that owns them. */
export interface Hub<A> {
	readonly options: ResolvedOptions<A>;
	readonly topics: TopicIndex<A>;
	/** Identifies this process in pub/sub messages (so `broadcastFrom` excludes only our own channel). */
	readonly serverId: string;
	/** WebSocket frames queued this event-loop turn, one write per socket at its end. */
	readonly writes: WriteBatch<Connection<A>>;
	publish(message: PubSubMessage): void;
}

// ws's readyState for an open socket; imported types only, so spelled here.
const OPEN = 1;

/**
 * The part of a `ws` WebSocket a connection uses. A LongPoll session
 * (longpoll.ts) is one too, so channels never know which transport they ride.
 */
export interface Wire {
	readonly readyState: number;
	readonly bufferedAmount: number;
	send(data: string | Uint8Array, options: { binary: boolean }): void;
	close(code?: number, reason?: string): void;
	terminate(): void;
	/** True while the client holds a request open (a LongPoll GET): alive however long ago it last sent. */
	readonly polling?: boolean;
}

/** A connect that passed every check: what `register` needs to make its connection. */
export interface Admitted<A> {
	assigns: A;
	/** The socket group key (`disconnect(key)`), or null. */
	key: string | null;
	serializer: Serializer;
	/** The server's `disconnect` count when the connect began: one for this key since then closes it at once. */
	disconnectsBefore?: number;
}

/** The outcome of a connect: admitted, or the HTTP status that refuses it. */
export type Admission<A> = Admitted<A> | { refuse: 400 | 403 | 500 | 503 };

/** One connected client. */
export class Connection<A> {
	/** Topic -> its channel, joining or joined (Phoenix allows one per topic per socket). */
	readonly channels = new Map<string, Channel<A>>();
	/** `Date.now()` of the last inbound frame; the idle sweep compares against it. */
	lastSeen: number;
	/** Present only when the server has a rate limit. */
	bucket: TokenBucket | null = null;
	/** Set once the socket is closing; nothing is sent after it. */
	isClosed = false;
	/** Frames waiting for the end of this event-loop turn (`hub.writes`). */
	pending: Buffer | Buffer[] | null = null;
	/** True for a `ws` WebSocket whose TCP socket takes pre-built frames; false for LongPoll (text through `send`). */
	readonly framed: boolean;

	constructor(
		readonly hub: Hub<A>,
		readonly id: string,
		readonly ws: Wire,
		readonly assigns: A,
		readonly socketKey: string | null,
		/** V1 or V2, as the client's `vsn` asked: every text frame to it is encoded with this. */
		readonly serializer: Serializer,
		now: number
	) {
		this.lastSeen = now;
		this.framed = rawSocketOf(ws) !== null;
	}

	/** Encode one text frame with this connection's serializer and send it. */
	sendFrame(joinRef: string | null, ref: string | null, topic: string, event: string, payload: unknown): void {
		this.send(this.serializer.encode(joinRef, ref, topic, event, payload));
	}

	/**
	 * Send one frame (text unless `isBinary`); dropped silently once the
	 * socket is no longer open. A text frame may come as UTF-8 bytes.
	 */
	send(data: string | Uint8Array, isBinary = false): void {
		if (!this.#writable()) return;
		const trace = this.hub.options.trace;
		if (trace) {
			const shown = isBinary || typeof data === 'string' ? data : Buffer.from(data).toString('utf8');
			trace({ type: 'out', connectionId: this.id, data: shown });
		}
		if (this.framed) this.hub.writes.queue(this, frameOf(data, isBinary));
		else this.ws.send(data, { binary: isBinary });
	}

	/** Send a broadcast: the frame prepared once for every subscriber with this serializer. */
	sendBroadcast(broadcast: PreparedBroadcast): void {
		if (!this.#writable()) return;
		const trace = this.hub.options.trace;
		if (trace) trace({ type: 'out', connectionId: this.id, data: broadcast.text(this.serializer) });
		if (this.framed) this.hub.writes.queue(this, broadcast.framed(this.serializer));
		else this.ws.send(broadcast.text(this.serializer), { binary: false });
	}

	/** Close the socket after whatever this turn queued for it (a close must not overtake data). */
	close(code: number, reason: string): void {
		this.hub.writes.flushConnection(this);
		this.ws.close(code, reason);
	}

	#writable(): boolean {
		if (this.isClosed || this.ws.readyState !== OPEN) return false;
		// A peer that stopped reading (a frozen tab, a dead link the kernel has
		// not noticed) would make us buffer every broadcast for it forever.
		// Cut it off: the client reconnects and catches up with `sync`.
		const buffered = this.ws.bufferedAmount;
		if (buffered <= MAX_BUFFERED_BYTES) return true;
		this.hub.options.logger.warn({ connectionId: this.id, buffered }, 'slow consumer terminated');
		this.ws.terminate();
		return false;
	}
}
