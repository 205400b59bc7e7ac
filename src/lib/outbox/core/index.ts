/** The kit's pure core: queue, lanes and the flush planner, retry policy, error classification, reconciliation, session, events, ids. */
export * from './queue-item.js';
export * from './queue-state.js';
export * from './queue.js';
export * from './lane.js';
export * from './plan.js';
export * from './retry-policy.js';
export * from './classify.js';
export * from './outcomes.js';
export * from './reconcile.js';
export * from './session.js';
export * from './events.js';
export * from './ids.js';
export * from './figures.js';
export * from './files.js';
