// The chat app's kit side: the engine, the bindings and the chat preset.
export { createBrowserChat } from '../../src/lib/chat/index.js';
export { RoomViewState } from '../../src/lib/chat/runes.svelte.js';
export { setOutboxContext, OutboxConnection, OutboxQueue, OutboxErrorState } from '../../src/lib/outbox/svelte/index.js';
