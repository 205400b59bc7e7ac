/**
 * One joined (or joining) topic on one connection: the `ChannelContext`
 * handlers see, and the ways a channel ends.
 *
 *   joining ──join ok──> joined ──leave / kick / close / duplicate / crash──> closed
 *      └──join error, crash, leave, duplicate, socket closed─────────────────────┘
 *
 * A channel is current while its connection's map still points at it; any
 * late work (an async handler finishing after a leave or rejoin) checks
 * `isCurrent()` and drops its output, so a stale reply never reaches a newer join.
 */
import { asBytes, encodeBinaryPush, encodeBinaryReply } from '../../protocol/frames.js';
import type { Connection } from './connection.js';
import { PHX_EVENTS, PHX_REASONS } from './phoenix.js';
import type { ChannelContext, ChannelRoute, HandlerReply } from './types.js';

export type ChannelPhase = 'joining' | 'joined' | 'closed';

/** The server's `ChannelContext`: prototype methods only, no per-channel closures. */
export class Channel<A> implements ChannelContext<A> {
	phase: ChannelPhase = 'joining';
	state: Record<string, unknown> = {};
	/** Why a still-joining channel ended, so a join that succeeds late can still get `terminate`. */
	endReason: string | null = null;
	/**
	 * Events that arrived while joining (a raw client may not wait) or while an
	 * async handler was running; run in arrival order afterwards.
	 */
	backlog: Array<{ ref: string | null; event: string; payload: unknown; isBinary: boolean }> | null = null;
	/**
	 * An async handler is running. Like a Phoenix channel process, a channel
	 * handles one event at a time, so a client's pushes are applied in the
	 * order sent even when the store is asynchronous.
	 */
	busy = false;

	constructor(
		readonly conn: Connection<A>,
		readonly route: ChannelRoute<A>,
		readonly topic: string,
		readonly joinRef: string
	) {}

	get assigns(): A {
		return this.conn.assigns;
	}

	get connectionId(): string {
		return this.conn.id;
	}

	/** True while this is the connection's channel for its topic. */
	isCurrent(): boolean {
		return this.phase !== 'closed' && this.conn.channels.get(this.topic) === this;
	}

	push(event: string, payload: Record<string, unknown> | Uint8Array): void {
		if (this.phase === 'joining') {
			// Phoenix raises here too: the client would drop a push that beats the join reply.
			throw new Error(`push("${event}") before the join reply; push from afterJoin instead`);
		}
		if (!this.isCurrent()) return;
		if (!(payload instanceof Uint8Array)) return this.conn.sendFrame(this.joinRef, null, this.topic, event, payload);
		if (this.#refuseBinary(event)) return;
		this.conn.send(encodeBinaryPush(this.joinRef, this.topic, event, payload), true);
	}

	broadcast(event: string, payload: Record<string, unknown>): void {
		const hub = this.conn.hub;
		hub.publish({ kind: 'broadcast', topic: this.topic, event, payload, origin: hub.serverId });
	}

	broadcastFrom(event: string, payload: Record<string, unknown>): void {
		const hub = this.conn.hub;
		hub.publish({
			kind: 'broadcast',
			topic: this.topic,
			event,
			payload,
			exceptConnection: this.conn.id,
			exceptJoinRef: this.joinRef,
			origin: hub.serverId
		});
	}

	/** V1 has no binary frames: a binary push or reply to a V1 client is dropped (and logged), never garbled. */
	#refuseBinary(event: string): boolean {
		if (this.conn.serializer.binary) return false;
		this.conn.hub.options.logger.warn(
			{ connectionId: this.conn.id, topic: this.topic, event, vsn: this.conn.serializer.vsn },
			'binary frame not sent: the client speaks a serializer without binary frames'
		);
		return true;
	}

	close(): void {
		if (this.phase === 'joining') throw new Error('close() before the join reply; return an error from join instead');
		endChannel(this, 'close', 'stopped');
	}

	/** Send `{status, response}` for the client's `ref`; binary responses go out as kind-1 frames. */
	reply(ref: string | null, reply: HandlerReply): void {
		const response = reply.response;
		if (response instanceof Uint8Array || response instanceof ArrayBuffer) {
			if (this.#refuseBinary(PHX_EVENTS.reply)) return;
			this.conn.send(encodeBinaryReply(this.joinRef, ref ?? '', this.topic, reply.status, asBytes(response)), true);
		} else {
			sendReply(this.conn, this.joinRef, ref, this.topic, reply.status, response ?? {});
		}
	}
}

/** `[joinRef, ref, topic, "phx_reply", {status, response}]` as text (V2; the same fields as an object in V1). */
export function sendReply<A>(
	conn: Connection<A>,
	joinRef: string | null,
	ref: string | null,
	topic: string,
	status: string,
	response: Record<string, unknown>
): void {
	conn.sendFrame(joinRef, ref, topic, PHX_EVENTS.reply, { status, response });
}

/**
 * End a channel once: unsubscribe it, drop it from its connection, tell the
 * client (`close`: phx_close, it will not rejoin; `crash`: phx_error, it
 * will), and call `terminate` unless it crashed (Phoenix skips it then too).
 * `notify: 'none'` is for a socket that is going away anyway.
 */
export function endChannel<A>(channel: Channel<A>, notify: 'close' | 'crash' | 'none', reason: string): void {
	if (channel.phase === 'closed') return;
	const wasJoined = channel.phase === 'joined';
	channel.phase = 'closed';
	channel.backlog = null;
	const { conn, topic, joinRef } = channel;
	if (conn.channels.get(topic) === channel) conn.channels.delete(topic);
	if (wasJoined) conn.hub.topics.remove(channel);

	if (notify === 'close') conn.sendFrame(joinRef, joinRef, topic, PHX_EVENTS.close, {});
	if (notify === 'crash') {
		conn.sendFrame(joinRef, joinRef, topic, PHX_EVENTS.error, { reason: PHX_REASONS.channelCrash });
		return;
	}
	if (wasJoined) terminateChannel(channel, reason);
	else channel.endReason = reason;
}

/** Call the route's `terminate`, which must never take the socket down with it. */
export function terminateChannel<A>(channel: Channel<A>, reason: string): void {
	const terminate = channel.route.terminate;
	if (!terminate) return;
	try {
		terminate.call(channel.route, channel, reason);
	} catch (err) {
		channel.conn.hub.options.logger.error(
			{ err, topic: channel.topic, connectionId: channel.conn.id, reason },
			'channel terminate threw'
		);
	}
}
