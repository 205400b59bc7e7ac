/**
 * The kit's events: names, detail types, and a small typed emitter (no DOM).
 * A browser adapter re-dispatches each as `CustomEvent('outbox:<name>')`.
 * Reducers return events as data (`OutboxEvent[]`); the runtime emits them
 * after the changed items are persisted.
 */
import type { FailureReason, ItemError, QueueItem } from './queue-item.js';

/** Every event name of the contract (DESIGN.md "Events"). */
export const OUTBOX_EVENT_NAMES = [
	'call-queued',
	'queue-processing-start',
	'queue-processing-complete',
	'call-reconciled',
	'call-rolled-back',
	'call-conflict',
	'call-failed',
	'state-rolled-back',
	'payload-refused'
] as const;

export type OutboxEventName = (typeof OUTBOX_EVENT_NAMES)[number];

/** The DOM event type a browser adapter dispatches for an event name. */
export function domEventType(name: OutboxEventName): `outbox:${OutboxEventName}` {
	return `outbox:${name}`;
}

/** Event name -> detail. */
export interface OutboxEventMap {
	/** An action was queued (persisted before this is emitted). */
	'call-queued': { item: QueueItem };
	/** A sending run began: the first push after an idle queue. */
	'queue-processing-start': { startedAt: number; queued: number };
	/** A sending run ended: nothing in flight, nothing ready. `remaining` counts kept items. */
	'queue-processing-complete': {
		startedAt: number;
		finishedAt: number;
		reconciled: number;
		failed: number;
		remaining: number;
	};
	/** The server confirmed the action; `response` is its ok reply. */
	'call-reconciled': { item: QueueItem; response: unknown };
	/** The action's optimistic effect was undone (refused, or discarded by the user). */
	'call-rolled-back': { item: QueueItem; reason: FailureReason | 'discarded' };
	/** The server said `conflict`: a sync was requested and the item settles as failed. */
	'call-conflict': { item: QueueItem; message?: string };
	/** The item settled as failed and is kept until retried or discarded. */
	'call-failed': { item: QueueItem; error: ItemError; exhausted: boolean };
	/** Optimistic state of a topic no longer includes the given actions. */
	'state-rolled-back': { topic: string; ids: string[]; reason: FailureReason | 'discarded' };
	/**
	 * Something the server sent did not pass the boundary check (a push, a
	 * reply, a sync page that does not have the shape its reader expects):
	 * dropped, and said here so it never disappears silently.
	 */
	'payload-refused': { topic: string; event: string; message: string; payload: unknown };
}

/** One event as data: a discriminated union on `type`. */
export type OutboxEvent = {
	[K in OutboxEventName]: { type: K; detail: OutboxEventMap[K] };
}[OutboxEventName];

/** Build an event value with its detail type checked against its name. */
export function outboxEvent<K extends OutboxEventName>(
	type: K,
	detail: OutboxEventMap[K]
): Extract<OutboxEvent, { type: K }> {
	return { type, detail } as Extract<OutboxEvent, { type: K }>;
}

export type Listener<T> = (detail: T) => void;

/** A typed emitter over an event map. */
export interface Emitter<M> {
	/** Listen; returns the function that stops listening. */
	on<K extends keyof M>(type: K, listener: Listener<M[K]>): () => void;
	off<K extends keyof M>(type: K, listener: Listener<M[K]>): void;
	/**
	 * Call the listeners of `type` in the order they were added. One that
	 * throws does not stop the others; the first error is rethrown after all ran.
	 */
	emit<K extends keyof M>(type: K, detail: M[K]): void;
	/** Listener count, for a type or in all. */
	listenerCount(type?: keyof M): number;
}

/**
 * A typed emitter. Listeners added or removed during an emit take effect
 * from the next emit.
 *
 * @example
 * const events = createEmitter<OutboxEventMap>();
 * const stop = events.on('call-failed', ({ item, error }) => console.warn(item.id, error.reason));
 */
export function createEmitter<M>(): Emitter<M> {
	const listeners = new Map<keyof M, Set<Listener<never>>>();
	return {
		on(type, listener) {
			let set = listeners.get(type);
			if (!set) listeners.set(type, (set = new Set()));
			set.add(listener as Listener<never>);
			return () => this.off(type, listener);
		},
		off(type, listener) {
			const set = listeners.get(type);
			set?.delete(listener as Listener<never>);
			if (set?.size === 0) listeners.delete(type);
		},
		emit(type, detail) {
			const set = listeners.get(type);
			if (!set) return;
			let firstError: unknown = undefined;
			let failed = false;
			for (const listener of [...set]) {
				try {
					(listener as Listener<typeof detail>)(detail);
				} catch (error) {
					if (!failed) firstError = error;
					failed = true;
				}
			}
			if (failed) throw firstError;
		},
		listenerCount(type) {
			if (type !== undefined) return listeners.get(type)?.size ?? 0;
			let n = 0;
			for (const set of listeners.values()) n += set.size;
			return n;
		}
	};
}

/**
 * Emit a list of event values (a reducer's output) through an emitter, in
 * order; a throwing listener does not stop later events (first error rethrown).
 */
export function emitAll(emitter: Emitter<OutboxEventMap>, events: readonly OutboxEvent[]): void {
	let firstError: unknown = undefined;
	let failed = false;
	for (const event of events) {
		try {
			emitter.emit(event.type, event.detail as never);
		} catch (error) {
			if (!failed) firstError = error;
			failed = true;
		}
	}
	if (failed) throw firstError;
}
