/** The kit's pure core: queue, lanes, retry policy, reconciliation, events, optimistic view, ids. */
export * from './queue-item.js';
export * from './queue-state.js';
export * from './queue.js';
export * from './lane.js';
export * from './lanes.js';
export * from './retry-policy.js';
export * from './reconcile.js';
export * from './events.js';
export * from './confirmed.js';
export * from './optimistic.js';
export * from './ids.js';
