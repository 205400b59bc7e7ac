/**
 * Options checked once at construction (a `TypeError` that says what is
 * wrong, as `ws` does) and spread over Phoenix's defaults, plus topic routing.
 */
import { createInProcessPubSub } from './in-process-pubsub.js';
import { DEFAULTS } from './phoenix.js';
import { assertRateLimit, type RateLimit } from './rate-limit.js';
import { silentLogger, type Logger } from '../logger.js';
import type { ChannelObserver, ChannelRoute, ChannelServerOptions, PubSub, TraceEvent } from './types.js';

/** Options with every default filled in. */
export interface ResolvedOptions<A> {
	path: string;
	authenticate: ChannelServerOptions<A>['authenticate'];
	socketKey: (assigns: A) => string | null;
	checkOrigin: ChannelServerOptions<A>['checkOrigin'];
	routes: ChannelRoute<A>[];
	maxChannelsPerSocket: number;
	idleTimeoutMs: number;
	maxPayload: number;
	rateLimit: RateLimit | null;
	pubsub: PubSub;
	/** True when the server made the pubsub, so `close()` may close it. */
	ownsPubsub: boolean;
	logger: Logger;
	observer: ChannelObserver;
	trace: ((event: TraceEvent) => void) | null;
}

/** Validate `options` and fill in defaults; throws a TypeError for nonsense. */
export function resolveOptions<A>(options: ChannelServerOptions<A>): ResolvedOptions<A> {
	if (typeof options !== 'object' || options === null) {
		throw new TypeError('createChannelServer(options) needs an options object');
	}
	if (typeof options.authenticate !== 'function') {
		throw new TypeError('options.authenticate must be a function returning assigns or null');
	}
	const path = options.path ?? DEFAULTS.path;
	if (typeof path !== 'string' || !path.startsWith('/')) {
		throw new TypeError(`options.path must be a string starting with "/", got ${String(path)}`);
	}
	assertOptionalFunction(options.socketKey, 'socketKey');
	assertOptionalFunction(options.checkOrigin, 'checkOrigin');
	assertOptionalFunction(options.trace, 'trace');
	assertRoutes(options.routes);
	if (options.rateLimit !== undefined) assertRateLimit(options.rateLimit);
	if (options.pubsub !== undefined) assertPubSub(options.pubsub);
	if (options.logger !== undefined) assertLogger(options.logger);
	if (options.observer !== undefined && (typeof options.observer !== 'object' || options.observer === null)) {
		throw new TypeError('options.observer must be an object of optional hooks');
	}

	return {
		path,
		authenticate: options.authenticate,
		socketKey: options.socketKey ?? (() => null),
		checkOrigin: options.checkOrigin,
		routes: options.routes,
		maxChannelsPerSocket: positiveInteger(options.maxChannelsPerSocket, DEFAULTS.maxChannelsPerSocket, 'maxChannelsPerSocket'),
		idleTimeoutMs: positiveInteger(options.idleTimeoutMs, DEFAULTS.idleTimeoutMs, 'idleTimeoutMs'),
		maxPayload: positiveInteger(options.maxPayload, DEFAULTS.maxPayload, 'maxPayload'),
		rateLimit: options.rateLimit ?? null,
		pubsub: options.pubsub ?? createInProcessPubSub(),
		ownsPubsub: options.pubsub === undefined,
		logger: options.logger ?? silentLogger,
		observer: options.observer ?? {},
		trace: options.trace ?? null
	};
}

/**
 * The first route whose pattern matches `topic`, in declaration order: an
 * exact topic, or a prefix ending in `*` (Phoenix's `channel "room:*"`).
 */
export function matchRoute<A>(routes: readonly ChannelRoute<A>[], topic: string): ChannelRoute<A> | null {
	for (const route of routes) {
		const { pattern } = route;
		if (pattern.endsWith('*') ? topic.startsWith(pattern.slice(0, -1)) : topic === pattern) return route;
	}
	return null;
}

function assertRoutes<A>(routes: ChannelRoute<A>[]): void {
	if (!Array.isArray(routes)) throw new TypeError('options.routes must be an array of channel routes');
	routes.forEach((route, i) => {
		const where = `options.routes[${i}]`;
		if (typeof route !== 'object' || route === null) throw new TypeError(`${where} must be an object`);
		if (typeof route.pattern !== 'string' || route.pattern === '') {
			throw new TypeError(`${where}.pattern must be a non-empty string (a topic, or a prefix ending in "*")`);
		}
		if (route.pattern.indexOf('*') !== -1 && route.pattern.indexOf('*') !== route.pattern.length - 1) {
			throw new TypeError(`${where}.pattern may only have "*" at its end, got "${route.pattern}"`);
		}
		if (typeof route.join !== 'function') throw new TypeError(`${where}.join must be a function`);
		if (typeof route.events !== 'object' || route.events === null) {
			throw new TypeError(`${where}.events must be an object of handlers by event name`);
		}
		for (const [event, spec] of Object.entries(route.events)) {
			const ok = typeof spec === 'function' || (typeof spec === 'object' && spec !== null && typeof spec.handler === 'function');
			if (!ok) throw new TypeError(`${where}.events["${event}"] must be a function or {handler, binary: true}`);
		}
		assertOptionalFunction(route.afterJoin, `routes[${i}].afterJoin`);
		assertOptionalFunction(route.terminate, `routes[${i}].terminate`);
	});
}

function positiveInteger(value: number | undefined, fallback: number, name: string): number {
	if (value === undefined) return fallback;
	if (!Number.isInteger(value) || value <= 0) {
		throw new TypeError(`options.${name} must be a positive integer, got ${String(value)}`);
	}
	return value;
}

function assertOptionalFunction(value: unknown, name: string): void {
	if (value !== undefined && typeof value !== 'function') throw new TypeError(`options.${name} must be a function`);
}

function assertPubSub(pubsub: PubSub): void {
	if (typeof pubsub?.publish !== 'function' || typeof pubsub.subscribe !== 'function') {
		throw new TypeError('options.pubsub must have publish(message) and subscribe(handler)');
	}
}

function assertLogger(logger: Logger): void {
	for (const level of ['debug', 'info', 'warn', 'error'] as const) {
		if (typeof logger?.[level] !== 'function') {
			throw new TypeError(`options.logger must be pino-compatible; ${level}() is missing`);
		}
	}
}
