/**
 * The kit's events as DOM `CustomEvent`s named `outbox:<name>` (DESIGN.md
 * "Events"), so code outside Svelte (analytics, a LiveView-style hook) can
 * listen with `addEventListener`. Does nothing where there is no DOM (SSR, Node).
 */
import { domEventType, type OutboxEventMap, type OutboxEventName } from '../core/events.js';

/** Anything events can be dispatched on: `window` by default. */
export interface DispatchTarget {
	dispatchEvent(event: Event): boolean;
}

/**
 * Dispatch one kit event on `target` (default: `globalThis`, i.e. `window`).
 * Returns false when there is nowhere to dispatch it.
 *
 * @example
 * events.on('call-failed', (detail) => dispatchOutboxEvent('call-failed', detail));
 * window.addEventListener('outbox:call-failed', (e) => console.warn(e.detail.error.reason));
 */
export function dispatchOutboxEvent<K extends OutboxEventName>(
	name: K,
	detail: OutboxEventMap[K],
	target: DispatchTarget | undefined = globalThis as unknown as DispatchTarget
): boolean {
	if (typeof target?.dispatchEvent !== 'function' || typeof CustomEvent !== 'function') return false;
	target.dispatchEvent(new CustomEvent(domEventType(name), { detail }));
	return true;
}
