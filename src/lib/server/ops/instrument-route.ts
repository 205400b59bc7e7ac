/**
 * Wraps a channel route so that every event handler is counted (in flight,
 * for a draining shutdown) and measured (outcome and reply time, for the
 * metrics), without the channel server or the chat knowing either exists.
 * While draining, events that have not started get no reply, as Phoenix
 * does for a socket that is going away: the socket closes with 1001 right
 * after, and the client sends them again once reconnected (by `client_id`,
 * so nothing applies twice).
 */
import type { ChannelContext, ChannelRoute, EventHandler, HandlerReply, JoinResult } from '../channels/types.js';
import type { InFlight } from './in-flight.js';
import type { Metrics } from './metrics.js';

export interface RouteInstruments {
	inFlight: InFlight;
	metrics: Metrics;
}

export function instrumentRoute<A>(route: ChannelRoute<A>, { inFlight, metrics }: RouteInstruments): ChannelRoute<A> {
	const events: ChannelRoute<A>['events'] = {};
	for (const [name, spec] of Object.entries(route.events)) {
		const handler = typeof spec === 'function' ? spec : spec.handler;
		const wrapped = measured(name, handler, inFlight, metrics);
		events[name] = typeof spec === 'function' ? wrapped : { ...spec, handler: wrapped };
	}
	return {
		...route,
		events,
		async join(ctx: ChannelContext<A>, payload: unknown): Promise<JoinResult> {
			inFlight.enter();
			const started = performance.now();
			try {
				const result = await route.join(ctx, payload);
				const reason = result.status === 'ok' ? 'ok' : String(result.response?.reason ?? 'error');
				metrics.event('phx_join', reason, (performance.now() - started) / 1000);
				if (result.status !== 'ok') metrics.refusal(`join_${reason}`);
				return result;
			} catch (err) {
				metrics.event('phx_join', 'crash', null);
				throw err;
			} finally {
				inFlight.leave();
			}
		}
	};
}

function measured<A>(name: string, handler: EventHandler<A>, inFlight: InFlight, metrics: Metrics): EventHandler<A> {
	return async (ctx, payload) => {
		if (inFlight.draining) {
			metrics.event(name, 'noreply', null);
			return undefined;
		}
		inFlight.enter();
		const started = performance.now();
		try {
			const reply = await handler(ctx, payload);
			metrics.event(name, outcomeOf(reply), (performance.now() - started) / 1000);
			return reply;
		} catch (err) {
			metrics.event(name, 'crash', null);
			throw err;
		} finally {
			inFlight.leave();
		}
	};
}

function outcomeOf(reply: HandlerReply | undefined): string {
	if (reply === undefined) return 'noreply';
	if (reply.status === 'ok') return 'ok';
	const response = reply.response as { reason?: unknown } | undefined;
	return typeof response?.reason === 'string' ? response.reason : 'error';
}
