/**
 * One engine per app instance, passed down by Svelte context, never held in
 * a module global (under SSR a global would be shared by every request and
 * leak one user's queue to another).
 *
 * @example
 * // +layout.svelte
 * setOutboxContext(createBrowserOutbox({ ... }));
 * // any component below it
 * const { outbox, stores } = getOutboxContext();
 */
import { getContext, hasContext, setContext } from 'svelte';
import type { Outbox } from '../runtime/index.js';
import { createOutboxStores, type OutboxStores } from './stores.js';

const KEY = Symbol('outbox');

/** What the context holds: the engine and its stores (made once, here). */
export interface OutboxContext {
	outbox: Outbox;
	stores: OutboxStores;
}

/** Provide an engine to this component's subtree (call during component init). */
export function setOutboxContext(outbox: Outbox): OutboxContext {
	return setContext(KEY, { outbox, stores: createOutboxStores(outbox) });
}

/** The engine set by an ancestor; throws when there is none. */
export function getOutboxContext(): OutboxContext {
	if (!hasContext(KEY)) throw new Error('getOutboxContext: no outbox here; call setOutboxContext(outbox) in a parent component (e.g. the root layout)');
	return getContext<OutboxContext>(KEY);
}
