/**
 * Running one event handler on a channel: rate limit, the binary check, the
 * handler itself (sync or async), its reply, and a crash when it throws.
 * A reply is sent only if the channel is still the one the event came in on.
 */
import type { Reason } from '../../protocol/reasons.js';
import { endChannel, sendReply, type Channel } from './channel.js';
import { PHX_REASONS } from './phoenix.js';
import { createBucket, takeToken } from './rate-limit.js';
import type { EventHandler, HandlerReply } from './types.js';

/** Most events a joining channel holds for replay; a client that floods before the reply loses the rest. */
const MAX_BACKLOG = 100;
/** Most events queued behind a running handler; past it they are answered `rate_limited`. */
const MAX_PIPELINE = 1000;

const INVALID: Reason = 'invalid';
const RATE_LIMITED: Reason = 'rate_limited';

/** Handle `[JR, ref, topic, event, payload]` for a current channel. */
export function runEvent<A>(
	channel: Channel<A>,
	ref: string | null,
	event: string,
	payload: unknown,
	isBinary: boolean
): void {
	const { conn, topic, joinRef } = channel;
	if (channel.phase === 'joining') {
		channel.backlog ??= [];
		if (channel.backlog.length < MAX_BACKLOG) channel.backlog.push({ ref, event, payload, isBinary });
		return;
	}
	if (channel.busy) {
		channel.backlog ??= [];
		if (channel.backlog.length < MAX_PIPELINE) channel.backlog.push({ ref, event, payload, isBinary });
		else {
			conn.hub.options.observer.eventRefused?.(event, 'pipeline_full');
			sendReply(conn, joinRef, ref, topic, 'error', { reason: RATE_LIMITED, message: 'too many events in flight' });
		}
		return;
	}
	const limit = conn.hub.options.rateLimit;
	if (limit) {
		const now = Date.now();
		conn.bucket ??= createBucket(limit, now);
		if (!takeToken(conn.bucket, limit, now)) {
			conn.hub.options.observer.eventRefused?.(event, 'rate_limited');
			sendReply(conn, joinRef, ref, topic, 'error', { reason: RATE_LIMITED });
			return;
		}
	}
	const spec = Object.hasOwn(channel.route.events, event) ? channel.route.events[event] : undefined;
	if (!spec) {
		conn.hub.options.observer.eventRefused?.(event, 'unknown');
		sendReply(conn, joinRef, ref, topic, 'error', { reason: INVALID, message: `unknown event ${event}` });
		return;
	}
	const handler: EventHandler<A> = typeof spec === 'function' ? spec : spec.handler;
	if (isBinary && (typeof spec === 'function' || spec.binary !== true)) {
		sendReply(conn, joinRef, ref, topic, 'error', { reason: INVALID, message: `event ${event} takes no binary payload` });
		return;
	}

	let result: ReturnType<EventHandler<A>>;
	try {
		result = handler(channel, payload);
	} catch (err) {
		crashChannel(channel, err, event);
		return;
	}
	if (isPromiseLike<HandlerReply | undefined>(result)) {
		channel.busy = true;
		result.then(
			(reply) => {
				finishEvent(channel, ref, event, reply);
				runNext(channel);
			},
			(err: unknown) => {
				crashChannel(channel, err, event);
				runNext(channel);
			}
		);
	} else {
		finishEvent(channel, ref, event, result);
	}
}

/** The handler finished: run what queued up behind it, in order, until one goes async again. */
function runNext<A>(channel: Channel<A>): void {
	channel.busy = false;
	const backlog = channel.backlog;
	while (backlog && backlog.length && !channel.busy && channel.isCurrent()) {
		const item = backlog.shift()!;
		runEvent(channel, item.ref, item.event, item.payload, item.isBinary);
	}
	if (backlog && !backlog.length && channel.backlog === backlog) channel.backlog = null;
}

function finishEvent<A>(channel: Channel<A>, ref: string | null, event: string, reply: HandlerReply | undefined): void {
	if (!channel.isCurrent()) return;
	if (reply === undefined) return; // Phoenix's {:noreply, socket}
	if (!isHandlerReply(reply)) {
		crashChannel(channel, new TypeError(`handler for "${event}" must return {status, response?} or undefined`), event);
		return;
	}
	channel.reply(ref, reply);
}

/**
 * A handler threw: `phx_error {reason:"channel_crash"}` for this topic only
 * and the channel is gone (the client rejoins). Other topics and the socket
 * are untouched. Late crashes of a channel already replaced are only logged.
 */
export function crashChannel<A>(channel: Channel<A>, err: unknown, event: string): void {
	const { conn, topic } = channel;
	conn.hub.options.logger.error({ err, topic, event, connectionId: conn.id }, 'channel crashed');
	if (!channel.isCurrent()) return;
	endChannel(channel, 'crash', PHX_REASONS.channelCrash);
}

function isHandlerReply(value: unknown): value is HandlerReply {
	if (typeof value !== 'object' || value === null) return false;
	const { status, response } = value as { status?: unknown; response?: unknown };
	if (typeof status !== 'string' || status === '') return false;
	return (
		response === undefined ||
		response instanceof Uint8Array ||
		response instanceof ArrayBuffer ||
		(typeof response === 'object' && response !== null && !Array.isArray(response))
	);
}

/** A thenable, without trusting that it is a native Promise. */
export function isPromiseLike<T>(value: unknown): value is PromiseLike<T> {
	return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}
