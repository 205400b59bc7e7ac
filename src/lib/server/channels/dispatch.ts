/**
 * What the server does with each inbound frame (PROTOCOL.md §3.2): answer
 * heartbeats, join, leave, route events to handlers, and turn a handler's
 * throw into a crash of that one channel. Malformed and stale frames are
 * dropped; nothing here may take the socket down.
 */
import { decodeBinaryPush, type Frame } from '../../protocol/frames.js';
import { Channel, endChannel, sendReply } from './channel.js';
import type { Connection } from './connection.js';
import { runEvent } from './run-event.js';
import { runJoin } from './run-join.js';
import { matchRoute } from './options.js';
import { PHOENIX_TOPIC, PHX_EVENTS, PHX_REASONS } from './phoenix.js';

/** Decode one WebSocket message (with the connection's serializer) and act on it. */
export function dispatchMessage<A>(conn: Connection<A>, data: Buffer, isBinary: boolean): void {
	if (isBinary && !conn.serializer.binary) {
		// V1 has no binary frames; Phoenix would fail the socket, we drop the frame.
		conn.hub.options.logger.debug({ connectionId: conn.id, vsn: conn.serializer.vsn }, 'binary frame on a V1 socket ignored');
		return;
	}
	const frame: Frame<unknown> | null = isBinary ? decodeBinaryPush(data) : conn.serializer.decode(data.toString('utf8'));
	if (!frame) {
		conn.hub.options.logger.debug({ connectionId: conn.id, isBinary, bytes: data.byteLength }, 'malformed frame ignored');
		return;
	}
	const { event, topic } = frame;
	if (topic === PHOENIX_TOPIC && event === PHX_EVENTS.heartbeat) {
		sendReply(conn, null, frame.ref, PHOENIX_TOPIC, 'ok', {});
		return;
	}
	if (isBinary && (event === PHX_EVENTS.join || event === PHX_EVENTS.leave)) {
		conn.hub.options.logger.debug({ connectionId: conn.id, topic, event }, 'binary join/leave ignored');
		return;
	}
	if (event === PHX_EVENTS.join) handleJoin(conn, frame);
	else if (event === PHX_EVENTS.leave) handleLeave(conn, frame);
	else handleEvent(conn, frame, isBinary);
}

function handleJoin<A>(conn: Connection<A>, frame: Frame<unknown>): void {
	const { topic, ref } = frame;
	// The official client sends ref === join_ref on a join; a raw client may omit one.
	const joinRef = frame.joinRef ?? ref;
	if (joinRef === null) {
		conn.hub.options.logger.debug({ connectionId: conn.id, topic }, 'join without a ref ignored');
		return;
	}
	const { routes, maxChannelsPerSocket } = conn.hub.options;
	const route = matchRoute(routes, topic);
	if (!route) {
		// Phoenix's encode_ignore: the reply carries a null join_ref.
		sendReply(conn, null, ref, topic, 'error', { reason: PHX_REASONS.unmatchedTopic });
		return;
	}
	const previous = conn.channels.get(topic);
	if (previous) endChannel(previous, 'close', 'duplicate_join');
	if (conn.channels.size >= maxChannelsPerSocket) {
		sendReply(conn, joinRef, ref, topic, 'error', { reason: PHX_REASONS.tooManyChannels });
		return;
	}
	const channel = new Channel(conn, route, topic, joinRef);
	conn.channels.set(topic, channel);
	runJoin(channel, ref, frame.payload);
}

function handleLeave<A>(conn: Connection<A>, frame: Frame<unknown>): void {
	const channel = conn.channels.get(frame.topic);
	if (!channel) {
		// Leaves for unknown topics are normal (buffered leaves, timed-out joins): always ok.
		sendReply(conn, frame.joinRef, frame.ref, frame.topic, 'ok', {});
		return;
	}
	if (isStale(channel, frame)) return;
	sendReply(conn, channel.joinRef, frame.ref, frame.topic, 'ok', {});
	endChannel(channel, 'close', 'left');
}

function handleEvent<A>(conn: Connection<A>, frame: Frame<unknown>, isBinary: boolean): void {
	const channel = conn.channels.get(frame.topic);
	if (!channel) {
		sendReply(conn, null, frame.ref, frame.topic, 'error', { reason: PHX_REASONS.unmatchedTopic });
		return;
	}
	if (isStale(channel, frame)) return;
	runEvent(channel, frame.ref, frame.event, frame.payload, isBinary);
}

/** A frame for an older join of this topic: Phoenix (1.8.3+) drops it without a word. */
function isStale<A>(channel: Channel<A>, frame: Frame<unknown>): boolean {
	if (frame.joinRef === null || frame.joinRef === channel.joinRef) return false;
	channel.conn.hub.options.logger.debug(
		{ connectionId: channel.conn.id, topic: frame.topic, event: frame.event },
		'frame with a stale join_ref dropped'
	);
	return true;
}
