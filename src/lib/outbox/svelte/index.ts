/** Svelte bindings: stores, rune classes and context for one engine. */
export * from './stores.js';
export * from './context.js';
export { ObservableState } from './observable-state.svelte.js';
export { OutboxConnection, OutboxErrorState, OutboxFigures, OutboxQueue, OutboxStorage } from './runes.svelte.js';
export { guardUnload, pendingTitle, type UnloadGuarded, type UnloadTarget } from './unload.js';
