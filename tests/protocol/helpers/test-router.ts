/**
 * The routes the protocol tests drive: one handler per server behaviour
 * (echo, error, noreply, late reply, throw, broadcast, binary, close...),
 * each recording what the server did into a shared log.
 */
import type { ChannelContext, ChannelRoute, HandlerReply } from '../../../src/lib/server/channels/index.js';
import { delay } from './wait.js';

export type Assigns = { user: string };
type Ctx = ChannelContext<Assigns>;

export type RouterEvent =
	| { type: 'join'; topic: string; joinRef: string; payload: unknown; connectionId: string }
	| { type: 'terminate'; topic: string; joinRef: string; reason: string }
	| { type: 'binary'; event: string; bytes: string }
	| { type: 'handled'; event: string; topic: string; joinRef: string };

const text = new TextEncoder();
const fromBytes = (payload: unknown) => new TextDecoder().decode(payload as Uint8Array);
const obj = (payload: unknown) => payload as Record<string, unknown>;

/** Build the test routes, appending to `log`. */
export function createTestRoutes(log: RouterEvent[]): ChannelRoute<Assigns>[] {
	const handled = (ctx: Ctx, event: string) => log.push({ type: 'handled', event, topic: ctx.topic, joinRef: ctx.joinRef });
	const room: ChannelRoute<Assigns> = {
		pattern: 'room:*',
		async join(ctx, payload) {
			log.push({ type: 'join', topic: ctx.topic, joinRef: ctx.joinRef, payload, connectionId: ctx.connectionId });
			const p = obj(payload);
			if (typeof p.joinDelayMs === 'number') await delay(p.joinDelayMs);
			if (ctx.topic === 'room:unauthorized') return { status: 'error', response: { reason: 'unauthorized' } };
			if (ctx.topic === 'room:crash-join') throw new Error('join blew up');
			ctx.state.pushAfterJoin = p.pushAfterJoin;
			return { status: 'ok', response: { hello: 'world' } };
		},
		afterJoin(ctx) {
			const push = ctx.state.pushAfterJoin as { event: string; payload: Record<string, unknown> } | undefined;
			if (push) ctx.push(push.event, push.payload);
		},
		terminate(ctx, reason) {
			log.push({ type: 'terminate', topic: ctx.topic, joinRef: ctx.joinRef, reason });
		},
		events: {
			echo: (ctx, payload) => {
				handled(ctx, 'echo');
				return { status: 'ok', response: { pong: payload } };
			},
			fail: () => ({ status: 'error', response: { reason: 'nope' } }),
			custom: () => ({ status: 'teapot', response: { short: 'stout' } }),
			noreply: (ctx) => {
				handled(ctx, 'noreply');
				return undefined;
			},
			late: async (ctx, payload) => {
				await delay(Number(obj(payload).ms));
				handled(ctx, 'late');
				return { status: 'ok', response: { late: true } };
			},
			throw: () => {
				throw new Error('handler blew up');
			},
			throw_async: async () => {
				await delay(1);
				throw new Error('async handler blew up');
			},
			bad_reply: () => 42 as unknown as HandlerReply,
			broadcast: (ctx, payload) => {
				const p = obj(payload);
				ctx.broadcast(String(p.event), obj(p.payload));
				return { status: 'ok', response: {} };
			},
			shout: (ctx, payload) => {
				ctx.broadcastFrom('shout', obj(payload));
				return { status: 'ok', response: {} };
			},
			push_me: (ctx, payload) => {
				const p = obj(payload);
				ctx.push(String(p.event), obj(p.payload));
				return undefined;
			},
			push_later: async (ctx, payload) => {
				await delay(Number(obj(payload).ms));
				ctx.push('later_evt', {});
				return undefined;
			},
			push_bin: (ctx) => {
				ctx.push('bin_evt', text.encode('SRVBIN'));
				return { status: 'ok', response: {} };
			},
			close_me: (ctx) => {
				ctx.close?.();
				return undefined;
			},
			bin: {
				binary: true,
				handler: (ctx, payload) => {
					const bytes = payload instanceof Uint8Array ? fromBytes(payload) : `json:${JSON.stringify(payload)}`;
					log.push({ type: 'binary', event: 'bin', bytes });
					return { status: 'ok', response: text.encode('PONG') };
				}
			}
		}
	};
	const presence: ChannelRoute<Assigns> = {
		pattern: 'presence:lobby',
		join: () => ({ status: 'ok' }),
		afterJoin(ctx) {
			ctx.push('presence_state', { u1: { metas: [{ phx_ref: 'A', online: true }] } });
		},
		events: {}
	};
	const plain: ChannelRoute<Assigns> = { pattern: 'plain', join: () => ({ status: 'ok' }), events: {} };
	return [room, presence, plain];
}
