/**
 * The `room:*` channel: join authorisation and one plain async handler per
 * event of the wire contract. Nothing here knows the Phoenix frame format.
 */
import {
	EVENTS,
	LIMITS,
	RETRYABLE_REASONS,
	ROOM_TOPIC_PREFIX,
	describeZodError,
	historySchema,
	syncSchema,
	type User
} from '../../protocol/index.js';
import type { ChannelContext, ChannelRoute, HandlerReply, JoinResult } from '../channels/types.js';
import { silentLogger, type Logger } from '../logger.js';
import { InvalidCursorError } from '../store/port.js';
import { roomAccess } from './access.js';
import { resultToReply, type ChatService } from './chat-service.js';

/** What a connection carries after authentication. */
export interface SocketAssigns {
	user: User;
	tokenId: string;
	/** Token expiry, ms since epoch. */
	expiresAt: number;
	[key: string]: unknown;
}

type Ctx = ChannelContext<SocketAssigns>;

const error = (reason: string, message?: string): HandlerReply => ({
	status: 'error',
	response: message ? { reason, message } : { reason }
});

const slugOf = (ctx: Ctx) => ctx.topic.slice(ROOM_TOPIC_PREFIX.length);

/** Channel state key: the last `client_id` of the last `send_batch` finished without a retryable failure. */
const LAST_BATCH = 'lastBatch';

export interface RoomChannelOptions {
	chat: ChatService;
	now?: () => number;
	logger?: Logger;
}

/** Rooms this process has made sure exist; cleared when it reaches this many (a bound, not a policy). */
const MAX_KNOWN_ROOMS = 100_000;

export function roomChannel({ chat, now = Date.now, logger = silentLogger }: RoomChannelOptions): ChannelRoute<SocketAssigns> {
	/**
	 * A join whose store call throws (PostgreSQL restarting, a pool
	 * connection cut) answers `internal`, a passing server fault that clients
	 * retry with backoff: a crash would answer `join crashed`, which clients
	 * take as a refusal for good.
	 */
	const storeFaults =
		<T>(what: string, handler: (ctx: Ctx, payload: unknown) => T | Promise<T>, failed: T) =>
		async (ctx: Ctx, payload: unknown): Promise<T> => {
			try {
				return await handler(ctx, payload);
			} catch (err) {
				logger.warn({ err, topic: ctx.topic, what }, 'room: the store failed; answered internal (clients retry)');
				return failed;
			}
		};
	const storeFailed = { status: 'error', response: { reason: 'internal', message: 'the server could not reach its store; try again' } } as const;

	// Rooms are created on first use and never deleted, so a room ensured once
	// need not be written again on every join (a write per join is most of a
	// join's cost, and every socket rejoins after each reconnect).
	const knownRooms = new Set<string>();
	const ensureRoom = async (slug: string) => {
		if (knownRooms.has(slug)) return;
		await chat.store.ensureRoom(slug);
		if (knownRooms.size >= MAX_KNOWN_ROOMS) knownRooms.clear();
		knownRooms.add(slug);
	};

	/** Wrap a handler so an expired token answers `unauthorized` before anything else. */
	const authed =
		(handler: (ctx: Ctx, payload: unknown) => Promise<HandlerReply>) =>
		(ctx: Ctx, payload: unknown) =>
			ctx.assigns.expiresAt <= now() ? error('unauthorized', 'session expired') : handler(ctx, payload);

	const action = (type: 'send_message' | 'edit_message' | 'delete_message' | 'mark_read') =>
		authed(async (ctx, payload) => resultToReply(await chat.applyOne(ctx.assigns.user, slugOf(ctx), type, payload, ctx)));

	return {
		pattern: ROOM_TOPIC_PREFIX + '*',

		join: storeFaults<JoinResult>('join', async (ctx) => {
			if (ctx.assigns.expiresAt <= now()) return { status: 'error', response: { reason: 'unauthorized' } };
			const slug = slugOf(ctx);
			const access = roomAccess(slug, ctx.assigns.user.id);
			if (access !== 'ok') return { status: 'error', response: { reason: access } };
			// The token was checked for revocation once, at connect. A sign-out
			// revokes it and then closes every socket of the user (in every
			// process; a process that may have missed that closes all its
			// sockets), as Phoenix does with a socket id's "disconnect"
			// broadcast; a connect being authenticated meanwhile is closed too.
			await ensureRoom(slug);
			return { status: 'ok', response: { room: slug } };
		}, storeFailed),

		// An event whose store call throws crashes the channel, as in Phoenix (`phx_error`): clients
		// fail the push in flight as `internal` and rejoin (the join above then answers `internal`
		// while the store is away).
		events: {
			[EVENTS.sendMessage]: action('send_message'),
			[EVENTS.editMessage]: action('edit_message'),
			[EVENTS.deleteMessage]: action('delete_message'),
			[EVENTS.markRead]: action('mark_read'),

			// Several batches of one client may be in flight: one naming in `after` a batch that was not
			// the last one finished here without a retryable failure is refused whole (`sendBatchSchema`).
			// The mark lives in the channel's state, so it dies with the channel.
			[EVENTS.sendBatch]: authed(async (ctx, payload) => {
				const inOrder = (after: string | undefined) => after === undefined || after === ctx.state[LAST_BATCH];
				const outcome = await chat.applyBatch(ctx.assigns.user, slugOf(ctx), payload, ctx, inOrder);
				if ('error' in outcome) return error('invalid', outcome.error);
				if ('outOfOrder' in outcome) {
					return error('out_of_order', 'the batch named in `after` is not the last one applied on this channel; nothing was applied');
				}
				const { results } = outcome;
				const last = results.at(-1);
				if (last && !results.some((r) => r.status === 'error' && RETRYABLE_REASONS.has(r.reason))) ctx.state[LAST_BATCH] = last.client_id;
				return { status: 'ok', response: { results } };
			}),

			[EVENTS.sync]: authed(async (ctx, payload) => {
				const parsed = syncSchema.safeParse(payload);
				if (!parsed.success) return error('invalid', describeZodError(parsed.error));
				let page;
				try {
					page = await chat.store.sync(slugOf(ctx), ctx.assigns.user.id, parsed.data.since, LIMITS.syncPageMax);
				} catch (e) {
					if (e instanceof InvalidCursorError) return error('invalid', e.message);
					throw e;
				}
				// The reply goes out first; the page follows as a push (the contract's order).
				setImmediate(() => ctx.push(EVENTS.syncComplete, { ...page }));
				return { status: 'ok', response: {} };
			}),

			[EVENTS.history]: authed(async (ctx, payload) => {
				const parsed = historySchema.safeParse(payload);
				if (!parsed.success) return error('invalid', describeZodError(parsed.error));
				const page = await chat.store.history(slugOf(ctx), parsed.data.before, parsed.data.limit);
				return { status: 'ok', response: { ...page } };
			})
		}
	};
}
