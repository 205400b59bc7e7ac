/**
 * Running a route's `join`: the reply goes out first, then `afterJoin` runs
 * (Phoenix's "nothing before the join reply"), then any events a raw client
 * sent before the reply are replayed in order.
 */
import type { Channel } from './channel.js';
import { sendReply, terminateChannel } from './channel.js';
import { crashChannel, isPromiseLike, runEvent } from './run-event.js';
import { PHX_REASONS } from './phoenix.js';
import type { JoinResult } from './types.js';

/** Call `route.join` (sync or async) and answer the client's join `ref`. */
export function runJoin<A>(channel: Channel<A>, ref: string | null, payload: unknown): void {
	let result: ReturnType<typeof channel.route.join>;
	try {
		result = channel.route.join.call(channel.route, channel, payload);
	} catch (err) {
		joinCrashed(channel, ref, err);
		return;
	}
	if (isPromiseLike(result)) {
		result.then(
			(value) => joinSettled(channel, ref, value),
			(err: unknown) => joinCrashed(channel, ref, err)
		);
	} else {
		joinSettled(channel, ref, result);
	}
}

function joinSettled<A>(channel: Channel<A>, ref: string | null, result: JoinResult): void {
	if (!isJoinResult(result)) {
		joinCrashed(channel, ref, new TypeError('join must return {status: "ok" | "error", response?}'));
		return;
	}
	if (channel.phase === 'closed') {
		// Left, replaced or disconnected while joining: the reply has nowhere to go, but an
		// app that set something up in join still gets its terminate.
		if (result.status === 'ok' && channel.endReason) terminateChannel(channel, channel.endReason);
		return;
	}
	const { conn, topic, joinRef } = channel;
	if (result.status !== 'ok') {
		channel.phase = 'closed';
		conn.channels.delete(topic);
		sendReply(conn, joinRef, ref, topic, 'error', result.response);
		replayBacklog(channel);
		return;
	}
	channel.phase = 'joined';
	conn.hub.topics.add(channel);
	sendReply(conn, joinRef, ref, topic, 'ok', result.response ?? {});
	runAfterJoin(channel);
	replayBacklog(channel);
}

function joinCrashed<A>(channel: Channel<A>, ref: string | null, err: unknown): void {
	const { conn, topic, joinRef } = channel;
	conn.hub.options.logger.error({ err, topic, connectionId: conn.id }, 'channel join crashed');
	if (channel.phase === 'closed') return;
	channel.phase = 'closed';
	conn.channels.delete(topic);
	sendReply(conn, joinRef, ref, topic, 'error', { reason: PHX_REASONS.joinCrashed });
	replayBacklog(channel);
}

function runAfterJoin<A>(channel: Channel<A>): void {
	const afterJoin = channel.route.afterJoin;
	if (!afterJoin) return;
	try {
		const done = afterJoin.call(channel.route, channel);
		if (isPromiseLike(done)) done.then(undefined, (err: unknown) => crashChannel(channel, err, 'afterJoin'));
	} catch (err) {
		crashChannel(channel, err, 'afterJoin');
	}
}

/**
 * Events sent before the join reply: Phoenix would have queued them behind
 * the join, so run them now. After a failed join they meet no channel and
 * get `unmatched topic`, as they would in Phoenix.
 */
function replayBacklog<A>(channel: Channel<A>): void {
	const backlog = channel.backlog;
	if (!backlog) return;
	channel.backlog = null;
	for (const item of backlog) {
		if (channel.isCurrent()) runEvent(channel, item.ref, item.event, item.payload, item.isBinary);
		else sendReply(channel.conn, null, item.ref, channel.topic, 'error', { reason: PHX_REASONS.unmatchedTopic });
	}
}

function isJoinResult(value: unknown): value is JoinResult {
	if (typeof value !== 'object' || value === null) return false;
	const { status, response } = value as { status?: unknown; response?: unknown };
	if (status === 'ok') return response === undefined || isObject(response);
	return status === 'error' && isObject(response);
}

function isObject(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}
