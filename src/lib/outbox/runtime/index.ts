/** The runtime: `createOutbox` and what it hands out. */
export { createOutbox } from './engine.js';
export type { Outbox, OutboxError } from './types.js';
export type { OutboxOptions, OutboxUser } from './options.js';
export { alwaysOnline, soloTab, systemClock } from './options.js';
export type { ActionDefinition, ActionRegistry, PayloadSchema } from './action-registry.js';
export { ActionValidationError, createActionRegistry } from './action-registry.js';
export type { ConnectionState } from './connection-state.js';
export { deriveConnection, INITIAL_CONNECTION } from './connection-state.js';
export type { Observable } from './observable.js';
export type { QueueSnapshot } from './queue-store.js';
export type { Room, RoomView } from './room.js';
export { OutboxCallError } from './pending-calls.js';
export { outcomesOf } from './wire-outcomes.js';
