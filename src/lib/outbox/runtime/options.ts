/**
 * `createOutbox` options: spread over defaults and checked once, at
 * construction (a `TypeError` names the bad option). Storage and transport
 * have no default here; the browser ones come from `adapters/` through
 * `createBrowserOutbox`. The other ports default to stand-ins that need no
 * browser: the system clock (read lazily, so fake timers installed later
 * still apply), always-online connectivity, a single tab that always leads,
 * and time-sortable ids on that clock.
 */
import { defaultClassify, type ErrorClassifier } from '../core/classify.js';
import { createIdGenerator } from '../core/ids.js';
import { MAX_BATCH, MAX_DEPTH } from '../core/plan.js';
import type { RetryOptions } from '../core/retry-policy.js';
import type { SessionUser } from '../core/session.js';
import type { Clock, Connectivity, OutboxDeps, TabCoordinator } from '../ports.js';
import type { ActionMap } from './action-registry.js';

/** The signed-in user, as the server names them (`{id, name}`). */
export type OutboxUser = SessionUser;

export interface OutboxOptions<A extends ActionMap = ActionMap> {
	/** The ports, injected once. `storage` and `transport` are required. */
	deps: Pick<OutboxDeps, 'storage' | 'transport'> & Partial<OutboxDeps>;
	/** The app's action types (their types flow into `add` and `settled`); more can be registered later. */
	actions?: A;
	/** Maps any error reply to a verdict (default: the Outbox reason table; see `core/classify.ts`). */
	classify?: ErrorClassifier;
	/** The signed-in user to start with (same as calling `setUser`). A string is an id (name = id). */
	user?: OutboxUser | string | null;
	/** Retry policy (defaults: 5 retries, 1 s base, 30 s cap, full jitter). */
	retry?: Partial<RetryOptions>;
	/** Most actions per batch (1–100, default 100). */
	maxBatch?: number;
	/** The event a batch of batchable actions is pushed as (default `send_batch`). */
	batchEvent?: string;
	/**
	 * Batches of one topic in flight at once (1–8, default 1). Above 1, each
	 * batch behind another names that batch's last action in `after`; set it
	 * only for a server that refuses such a batch when the one it names was
	 * not applied (Outbox's `send_batch` does: `out_of_order`).
	 */
	batchesInFlight?: number;
	/** How long a push waits for its reply (ms, default 10,000). */
	pushTimeoutMs?: number;
	/** Connect the transport when a user is set and disconnect it when none is (default true). */
	autoConnect?: boolean;
	/** Where `outbox:<name>` DOM events go (default `globalThis` when it can dispatch events; null: none). */
	eventTarget?: EventTarget | null;
}

export interface ResolvedOptions {
	deps: OutboxDeps;
	classify: ErrorClassifier;
	retry: Partial<RetryOptions>;
	maxBatch: number;
	batchEvent: string;
	batchesInFlight: number;
	pushTimeoutMs: number;
	autoConnect: boolean;
	eventTarget: EventTarget | null;
}

/** The system clock, reading the globals at each call. */
export const systemClock: Clock = {
	now: () => Date.now(),
	setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
	clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>)
};

/** Connectivity that is always online and visible (Node, tests, a server-side renderer). */
export function alwaysOnline(): Connectivity {
	return { current: () => ({ online: true, visible: true }), subscribe: () => () => {} };
}

/** A coordinator for one tab alone: it always leads, and broadcasts go nowhere. */
export function soloTab(): TabCoordinator {
	return { isLeader: () => true, subscribe: () => () => {}, broadcast() {}, onBroadcast: () => () => {}, close() {} };
}

export function resolveOptions(options: OutboxOptions<ActionMap>): ResolvedOptions {
	if (!options || typeof options !== 'object' || !options.deps) {
		throw new TypeError('createOutbox({ deps: { storage, transport, ... } }): deps is required');
	}
	const { deps } = options;
	if (!deps.storage || typeof deps.storage.write !== 'function') throw new TypeError('createOutbox: deps.storage must be a QueueStorage');
	if (!deps.transport || typeof deps.transport.push !== 'function') throw new TypeError('createOutbox: deps.transport must be a Transport');
	const clock = deps.clock ?? systemClock;
	const resolved: ResolvedOptions = {
		deps: {
			clock,
			storage: deps.storage,
			transport: deps.transport,
			connectivity: deps.connectivity ?? alwaysOnline(),
			tabs: deps.tabs ?? soloTab(),
			ids: deps.ids ?? createIdGenerator({ now: () => clock.now() }),
			...(deps.uploader ? { uploader: deps.uploader } : {})
		},
		classify: options.classify ?? defaultClassify,
		retry: options.retry ?? {},
		maxBatch: options.maxBatch ?? MAX_BATCH,
		batchEvent: options.batchEvent ?? 'send_batch',
		batchesInFlight: options.batchesInFlight ?? 1,
		pushTimeoutMs: options.pushTimeoutMs ?? 10_000,
		autoConnect: options.autoConnect ?? true,
		eventTarget: options.eventTarget === undefined ? defaultEventTarget() : options.eventTarget
	};
	if (typeof resolved.classify !== 'function') throw new TypeError('createOutbox: classify must be a function (reply) => { verdict, reason, message? }');
	if (typeof resolved.batchEvent !== 'string' || resolved.batchEvent === '') throw new TypeError('createOutbox: batchEvent must be a non-empty event name');
	if (options.actions !== undefined && (typeof options.actions !== 'object' || options.actions === null)) {
		throw new TypeError('createOutbox: actions must be an object of action definitions by type name');
	}
	checkInteger('maxBatch', resolved.maxBatch, 1, MAX_BATCH);
	checkInteger('batchesInFlight', resolved.batchesInFlight, 1, MAX_DEPTH);
	checkInteger('pushTimeoutMs', resolved.pushTimeoutMs, 1, 10 * 60_000);
	return resolved;
}

/** A user from `setUser`'s argument, checked. */
export function normalizeUser(user: OutboxUser | string | null | undefined): OutboxUser | null {
	if (user === null || user === undefined) return null;
	const value = typeof user === 'string' ? { id: user, name: user } : user;
	if (typeof value.id !== 'string' || value.id === '' || typeof value.name !== 'string') {
		throw new TypeError('setUser(user): user must be null, an id string, or { id, name } with a non-empty id');
	}
	return { id: value.id, name: value.name };
}

function defaultEventTarget(): EventTarget | null {
	const g = globalThis as { dispatchEvent?: unknown };
	return typeof g.dispatchEvent === 'function' && typeof CustomEvent === 'function' ? (globalThis as unknown as EventTarget) : null;
}

function checkInteger(name: string, value: number, min: number, max: number): void {
	if (!Number.isInteger(value) || value < min || value > max) {
		throw new TypeError(`createOutbox: ${name} must be an integer from ${min} to ${max}, got ${value}`);
	}
}
