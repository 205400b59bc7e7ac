/**
 * `outbox/sw`: the queue flushed by Background Sync while no tab is open.
 * Worker side: `handleBackgroundFlush(self, { endpoint, sessionCheck })`
 * (or `flushQueue` on ports of your own). Page side:
 * `watchQueueForBackgroundSync(outbox)` keeps a sync registered while
 * actions wait, and records who is signed in for the worker.
 */
export * from './flush.js';
export * from './page.js';
export * from './session-marker.js';
export { handleBackgroundFlush, type BackgroundFlushOptions, type ServiceWorkerScope } from './worker.js';
