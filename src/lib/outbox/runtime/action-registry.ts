/**
 * The action registry: what the engine needs to know about each action type
 * it queues. Queue items are plain JSON (`{type, payload}`); the registry
 * turns one back into a wire payload when it is sent, after a reload too,
 * so nothing persisted needs code to be understood. The four chat actions
 * are registered by default; an app adds its own with `register`.
 *
 * @example
 * outbox.actions.register('add_reaction', {
 *   schema: z.strictObject({ client_id: z.string(), id: z.string(), emoji: z.string() }),
 *   toWire: (payload) => ({ id: payload.id, emoji: payload.emoji })
 * });
 * await outbox.add('add_reaction', 'room:lobby', { id: 'm1', emoji: '👍' });
 */
import { ACTION_TYPES, type ActionType } from '../../protocol/events.js';
import { describeZodError, parseAction } from '../../protocol/schemas.js';
import type { ViewMessage } from '../core/optimistic.js';
import type { QueueItem } from '../core/queue-item.js';

/** The shape of a zod schema the registry uses (any `safeParse` with the same result works). */
export interface PayloadSchema {
	safeParse(input: unknown): { success: true; data: unknown } | { success: false; error: unknown };
}

/** How one action type is checked, sent and shown. */
export interface ActionDefinition {
	/**
	 * Checks the wire payload (the queued payload with `client_id` added)
	 * before the action is queued; a failure rejects `add` with `ActionValidationError`.
	 */
	schema?: PayloadSchema;
	/** The event payload to push, from the stored payload (`client_id` is added by the engine). */
	toWire(payload: Readonly<Record<string, unknown>>): Record<string, unknown>;
	/**
	 * For app-defined types: the room's view with this pending (or failed) item
	 * applied. The four chat types are applied by the core's `buildView`.
	 */
	applyOptimistic?(rows: readonly ViewMessage[], item: QueueItem): readonly ViewMessage[];
	/**
	 * Whether the server takes this type inside `send_batch` (true for the four
	 * chat types; default false, so an app's own type is pushed as its own event).
	 */
	batchable?: boolean;
}

/** `add` was given a payload its type's schema refuses: nothing was queued. */
export class ActionValidationError extends Error {
	override readonly name = 'ActionValidationError';
	readonly reason = 'invalid' as const;
}

/** Action types by name. */
export interface ActionRegistry {
	/** Register (or replace) a type. Returns the registry, for chaining. */
	register(type: string, definition: ActionDefinition): ActionRegistry;
	has(type: string): boolean;
	get(type: string): ActionDefinition | undefined;
	/** Every registered type. */
	types(): string[];
}

/** The event payload for one action of a built-in chat type: the stored payload as it is. */
const chatDefinition = (type: ActionType): ActionDefinition => ({
	schema: {
		safeParse(input) {
			const parsed = parseAction(type, input);
			return parsed.ok ? { success: true, data: parsed.action.payload } : { success: false, error: parsed.message };
		}
	},
	toWire: (payload) => ({ ...payload }),
	batchable: true
});

/**
 * A registry holding the four chat action types (`send_message`,
 * `edit_message`, `delete_message`, `mark_read`).
 */
export function createActionRegistry(): ActionRegistry {
	const definitions = new Map<string, ActionDefinition>();
	const registry: ActionRegistry = {
		register(type, definition) {
			if (typeof type !== 'string' || !/^[a-z][a-z0-9_:]*$/.test(type)) {
				throw new TypeError(`actions.register(type, definition): type must be an event name like "add_reaction", got ${String(type)}`);
			}
			if (typeof definition?.toWire !== 'function') {
				throw new TypeError(`actions.register("${type}", definition): definition.toWire(payload) is required`);
			}
			definitions.set(type, definition);
			return registry;
		},
		has: (type) => definitions.has(type),
		get: (type) => definitions.get(type),
		types: () => [...definitions.keys()]
	};
	for (const type of ACTION_TYPES) registry.register(type, chatDefinition(type));
	return registry;
}

/**
 * The wire payload of a new action, checked by its type's schema.
 * Throws `TypeError` for an unregistered type, `ActionValidationError` for a bad payload.
 */
export function checkAction(registry: ActionRegistry, type: string, clientId: string, payload: Record<string, unknown>): void {
	const definition = registry.get(type);
	if (!definition) {
		throw new TypeError(`add("${type}", ...): unknown action type; register it first with outbox.actions.register("${type}", { toWire })`);
	}
	if (!definition.schema) return;
	const parsed = definition.schema.safeParse({ ...definition.toWire(payload), client_id: clientId });
	if (!parsed.success) throw new ActionValidationError(describe(parsed.error));
}

/** The payload to push for a queued item, or null when its type is not registered (any more). */
export function wirePayload(registry: ActionRegistry, item: QueueItem): Record<string, unknown> | null {
	const definition = registry.get(item.type);
	return definition ? { ...definition.toWire(item.payload), client_id: item.id } : null;
}

function describe(error: unknown): string {
	if (typeof error === 'string') return error;
	if (error && typeof error === 'object' && 'issues' in error) return describeZodError(error as Parameters<typeof describeZodError>[0]);
	return 'invalid payload';
}
