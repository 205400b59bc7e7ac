/**
 * `createOutbox` options: spread over defaults and checked once, at
 * construction (a `TypeError` names the bad option). Storage and transport
 * have no default here; the browser ones come from `adapters/` through
 * `createBrowserOutbox`. The other ports default to stand-ins that need no
 * browser: the system clock (read lazily, so fake timers installed later
 * still apply), always-online connectivity, a single tab that always leads,
 * and time-sortable ids on that clock.
 */
import { LIMITS } from '../../protocol/events.js';
import { DEFAULT_SNAPSHOT_LIMIT } from '../adapters/storage-layout.js';
import { createIdGenerator } from '../core/ids.js';
import type { RetryOptions } from '../core/retry-policy.js';
import type { Clock, Connectivity, OutboxDeps, TabCoordinator } from '../ports.js';

/** The signed-in user, as the server names them (`{id, name}` of `POST /api/session`). */
export interface OutboxUser {
	id: string;
	name: string;
}

export interface OutboxOptions {
	/** The ports, injected once. `storage` and `transport` are required. */
	deps: Pick<OutboxDeps, 'storage' | 'transport'> & Partial<OutboxDeps>;
	/** The signed-in user to start with (same as calling `setUser`). A string is an id (name = id). */
	user?: OutboxUser | string | null;
	/** Retry policy (defaults: 5 retries, 1 s base, 30 s cap, full jitter). */
	retry?: Partial<RetryOptions>;
	/** Most actions per `send_batch` (1–100, default 100). */
	maxBatch?: number;
	/** How long a push waits for its reply (ms, default 10,000). */
	pushTimeoutMs?: number;
	/** Messages per `history` page, and for a room's first screen (1–200, default 50). */
	historyLimit?: number;
	/** Latest messages of a room kept as its offline snapshot (0 turns snapshots off; default 200). */
	snapshotLimit?: number;
	/** Connect the transport when a user is set and disconnect it when none is (default true). */
	autoConnect?: boolean;
	/** Leave deleted messages out of room views (default false: shown with `deleted: true`). */
	hideDeleted?: boolean;
	/** Where `outbox:<name>` DOM events go (default `globalThis` when it can dispatch events; null: none). */
	eventTarget?: EventTarget | null;
}

export interface ResolvedOptions {
	deps: OutboxDeps;
	retry: Partial<RetryOptions>;
	maxBatch: number;
	pushTimeoutMs: number;
	historyLimit: number;
	snapshotLimit: number;
	autoConnect: boolean;
	hideDeleted: boolean;
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

export function resolveOptions(options: OutboxOptions): ResolvedOptions {
	if (!options || typeof options !== 'object' || !options.deps) {
		throw new TypeError('createOutbox({ deps: { storage, transport, ... } }): deps is required');
	}
	const { deps } = options;
	if (!deps.storage || typeof deps.storage.putMany !== 'function') throw new TypeError('createOutbox: deps.storage must be a QueueStorage');
	if (!deps.transport || typeof deps.transport.push !== 'function') throw new TypeError('createOutbox: deps.transport must be a Transport');
	const clock = deps.clock ?? systemClock;
	const resolved: ResolvedOptions = {
		deps: {
			clock,
			storage: deps.storage,
			transport: deps.transport,
			connectivity: deps.connectivity ?? alwaysOnline(),
			tabs: deps.tabs ?? soloTab(),
			ids: deps.ids ?? createIdGenerator({ now: () => clock.now() })
		},
		retry: options.retry ?? {},
		maxBatch: options.maxBatch ?? LIMITS.batchMaxActions,
		pushTimeoutMs: options.pushTimeoutMs ?? 10_000,
		historyLimit: options.historyLimit ?? 50,
		snapshotLimit: options.snapshotLimit ?? DEFAULT_SNAPSHOT_LIMIT,
		autoConnect: options.autoConnect ?? true,
		hideDeleted: options.hideDeleted ?? false,
		eventTarget: options.eventTarget === undefined ? defaultEventTarget() : options.eventTarget
	};
	checkInteger('maxBatch', resolved.maxBatch, 1, LIMITS.batchMaxActions);
	checkInteger('pushTimeoutMs', resolved.pushTimeoutMs, 1, 10 * 60_000);
	checkInteger('historyLimit', resolved.historyLimit, 1, LIMITS.historyMaxLimit);
	checkInteger('snapshotLimit', resolved.snapshotLimit, 0, 10_000);
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
