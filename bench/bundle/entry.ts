// What an app that adopts the kit ships: the browser engine and the Svelte bindings.
export { createBrowserOutbox, defineAction } from '../../src/lib/outbox/index.js';
export { setOutboxContext, getOutboxContext, OutboxConnection, OutboxQueue, OutboxErrorState, ObservableState } from '../../src/lib/outbox/svelte/index.js';
