/** The runtime: `createOutbox` and what it hands out. */
export { createOutbox } from './engine.js';
export type { Outbox, OutboxError, AddOptions, ItemOf, StorageState, UploadsInFlight } from './types.js';
export { FilesNotStorableError } from './types.js';
export type { OutboxOptions, OutboxUser } from './options.js';
export { alwaysOnline, soloTab, systemClock } from './options.js';
export type {
	ActionDefinition,
	ActionMap,
	ActionRegistry,
	AnyActionDefinition,
	OptimisticContext,
	PayloadOf,
	PayloadSchema,
	ReplyOf,
	StandardSchemaV1,
	WireContext
} from './action-registry.js';
export { uploadItemFiles, type UploadHooks, type UploadOutcome } from './upload-files.js';
export { ActionValidationError, createActionRegistry, defineAction } from './action-registry.js';
export type { ConnectionState } from './connection-state.js';
export { deriveConnection, INITIAL_CONNECTION } from './connection-state.js';
export type { Observable } from './observable.js';
export { ComputedValue, DerivedValue, WritableValue } from './observable.js';
export type { QueueSnapshot } from './queue-store.js';
export type { Topic, SyncRoutine } from './topics.js';
export { OutboxCallError } from './pending-calls.js';
