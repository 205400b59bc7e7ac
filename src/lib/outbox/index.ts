/**
 * The Outbox kit's public entry: the engine (`createOutbox`), the pure core
 * and the ports. Browser defaults: `outbox/browser` (`createBrowserOutbox`);
 * Svelte bindings: `outbox/svelte`; test helpers: `outbox/testing` (nothing
 * from there is re-exported here, so an app bundle never carries them).
 */
export * from './core/index.js';
export * from './ports.js';
export * from './runtime/index.js';
