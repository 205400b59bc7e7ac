/**
 * The Outbox kit's public entry: the engine (`createOutbox`), its browser
 * defaults (`createBrowserOutbox`), the pure core and the ports. Svelte
 * bindings: `outbox/svelte`; browser adapters: `outbox/adapters`; the
 * service worker's flush: `outbox/sw`; test helpers: `outbox/testing`
 * (nothing from there is re-exported here, so an app bundle never carries them).
 */
export * from './core/index.js';
export * from './ports.js';
export * from './runtime/index.js';
export { createBrowserOutbox, UserScopedTabs, type BrowserOutboxOptions } from './browser.js';
