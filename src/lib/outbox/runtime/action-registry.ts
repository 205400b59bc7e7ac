/**
 * The action registry: what the engine knows about each action type an app
 * queues. Queue items are plain JSON (`{type, payload}`); the registry
 * turns one back into a wire payload when it is sent, after a reload too,
 * so nothing persisted needs code to be understood. The kit registers no
 * type of its own: every type is the app's.
 *
 * @example
 * const actions = {
 *   todo_add: defineAction({
 *     schema: z.object({ title: z.string().min(1) }),        // any Standard Schema, or a function
 *     reply: (response) => response as { todo: Todo },       // what `settled()` resolves with
 *     optimistic: (todos: Todo[], { title }, { item }) => [...todos, { id: item.id, title, done: false }]
 *   })
 * };
 * const outbox = createOutbox({ actions, deps });
 * const item = await outbox.add('todo_add', 'list:groceries', { title: 'milk' }); // typed payload
 * const { todo } = await outbox.settled(item);                                   // typed reply
 */
import type { QueueItem } from '../core/queue-item.js';
import { wireUploads, type UploadedFile } from '../core/files.js';
import type { FailedView } from '../core/reconcile.js';

/**
 * The Standard Schema interface (standardschema.dev), as zod, valibot and
 * arktype implement it; copied here (as the spec intends) so the kit needs
 * no schema library.
 */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
	readonly '~standard': {
		readonly version: 1;
		readonly vendor: string;
		readonly validate: (value: unknown) => StandardResult<Output> | Promise<StandardResult<Output>>;
		readonly types?: { readonly input: Input; readonly output: Output } | undefined;
	};
}

type StandardResult<Output> =
	| { readonly value: Output; readonly issues?: undefined }
	| { readonly issues: ReadonlyArray<{ readonly message: string; readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> }> };

/** A payload check: a Standard Schema, or a function that returns the payload or throws. */
export type PayloadSchema<P> = StandardSchemaV1<unknown, P> | ((payload: unknown) => P);

/** What `toWire` gets beside the payload. */
export interface WireContext {
	/** The server's copies of the action's files, in the order given to `add` (empty without files). */
	uploads: readonly UploadedFile[];
}

/** How a pending or failed item is being applied to an optimistic view. */
export interface OptimisticContext<P extends object = Readonly<Record<string, unknown>>> {
	item: QueueItem<string, P>;
	/** `pending` (queued or sending), or the failed item's view (`show` its effect as failed, `mark` the state failed without it). */
	mode: 'pending' | Exclude<FailedView, 'hide'>;
}

/**
 * One action type: how it is checked, sent, answered and shown. Every field
 * is optional: a bare `{}` queues the payload as it is and pushes it as the
 * event named like the type.
 */
export interface ActionDefinition<P extends object = Record<string, unknown>, R = unknown, S = never> {
	/** Checks the payload before it is queued; a failure rejects `add` with `ActionValidationError` (nothing queued). */
	schema?: PayloadSchema<P>;
	/** The event pushed (default: the type's name). */
	event?: string;
	/**
	 * The event payload, from the stored payload and the uploads of the files
	 * the action carries, in order (default: the payload itself, plus
	 * `uploads: [upload id, ...]` when it carries files). `client_id` is added by the engine.
	 */
	toWire?(payload: P, context: WireContext): Record<string, unknown>;
	/** The server takes this type inside a batch request with others (default false: pushed as its own event). */
	batchable?: boolean;
	/** Checks and decodes the ok reply, for `settled()` (throw to refuse it). Default: the reply as it came. */
	reply?(response: unknown): R;
	/** Its effect on an optimistic view of its topic (`topic.view(...)`): the state with this action applied. Pure. */
	optimistic?(state: S, payload: P, context: OptimisticContext<P>): S;
	/** Undo an effect the app applied itself (outside a view) when the action is rolled back or discarded. */
	undo?(item: QueueItem<string, P>, reason: string): void;
}

// `any` here is what lets definitions with different payload types share one map.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyActionDefinition = ActionDefinition<any, any, any>;

/** Action types by name, as an app declares them. */
export type ActionMap = Record<string, AnyActionDefinition>;

/** The payload type of a definition. */
export type PayloadOf<D> = D extends ActionDefinition<infer P, infer _R, infer _S> ? P : never;
/** The reply type of a definition (what `settled()` resolves with). */
export type ReplyOf<D> = D extends ActionDefinition<infer _P, infer R, infer _S> ? R : never;

/**
 * Declare an action type with its payload, reply and view types inferred
 * from its fields (identity at run time).
 */
export function defineAction<P extends object = Record<string, unknown>, R = unknown, S = never>(
	definition: ActionDefinition<P, R, S>
): ActionDefinition<P, R, S> {
	return definition;
}

/** `add` was given a payload its type's schema refuses: nothing was queued. */
export class ActionValidationError extends Error {
	override readonly name = 'ActionValidationError';
	readonly reason = 'invalid' as const;
}

/** Action types by name. */
export interface ActionRegistry {
	/** Register (or replace) a type. Returns the registry, for chaining. */
	register(type: string, definition: AnyActionDefinition): ActionRegistry;
	has(type: string): boolean;
	get(type: string): AnyActionDefinition | undefined;
	/** Every registered type. */
	types(): string[];
}

const TYPE_NAME = /^[a-z][a-z0-9_:.-]*$/i;

/** A registry holding `definitions`. */
export function createActionRegistry(definitions: ActionMap = {}): ActionRegistry {
	const held = new Map<string, AnyActionDefinition>();
	const registry: ActionRegistry = {
		register(type, definition) {
			if (typeof type !== 'string' || !TYPE_NAME.test(type)) {
				throw new TypeError(`actions.register(type, definition): type must be a name like "todo_add", got ${String(type)}`);
			}
			if (!definition || typeof definition !== 'object') throw new TypeError(`actions.register("${type}", definition): definition must be an object`);
			for (const key of ['toWire', 'reply', 'optimistic', 'undo'] as const) {
				if (definition[key] !== undefined && typeof definition[key] !== 'function') {
					throw new TypeError(`actions.register("${type}", definition): ${key} must be a function`);
				}
			}
			held.set(type, definition);
			return registry;
		},
		has: (type) => held.has(type),
		get: (type) => held.get(type),
		types: () => [...held.keys()]
	};
	for (const [type, definition] of Object.entries(definitions)) registry.register(type, definition);
	return registry;
}

/**
 * A new action's payload, checked by its type's schema (the schema's output
 * is what gets queued). Throws `TypeError` for an unregistered type,
 * `ActionValidationError` for a refused payload.
 */
export function checkAction(registry: ActionRegistry, type: string, payload: unknown): Record<string, unknown> {
	const definition = registry.get(type);
	if (!definition) {
		throw new TypeError(`add("${type}", ...): unknown action type; declare it in createOutbox({ actions }) or outbox.actions.register("${type}", {})`);
	}
	const schema = definition.schema;
	if (schema === undefined) return payload as Record<string, unknown>;
	if (typeof schema === 'function') {
		try {
			return schema(payload) as Record<string, unknown>;
		} catch (error) {
			throw new ActionValidationError(error instanceof Error ? error.message : String(error));
		}
	}
	const result = schema['~standard'].validate(payload);
	if (result instanceof Promise) throw new TypeError(`add("${type}", ...): the schema validates asynchronously; the kit needs a synchronous schema`);
	if (result.issues) throw new ActionValidationError(describeIssues(result.issues));
	return result.value as Record<string, unknown>;
}

/** The event and payload to push for a queued item, or null when its type is not registered (any more). */
export function wireOf(registry: ActionRegistry, item: QueueItem): { event: string; payload: Record<string, unknown> } | null {
	const definition = registry.get(item.type);
	if (!definition) return null;
	const uploads = item.files && item.files.length > 0 ? wireUploads(item) : [];
	const body = definition.toWire
		? definition.toWire(item.payload, { uploads })
		: uploads.length > 0
			? { ...item.payload, uploads: uploads.map((upload) => upload.id) }
			: item.payload;
	return { event: definition.event ?? item.type, payload: { ...body, client_id: item.id } };
}

function describeIssues(issues: ReadonlyArray<{ message: string; path?: ReadonlyArray<PropertyKey | { key: PropertyKey }> }>): string {
	return issues
		.map((issue) => {
			const path = (issue.path ?? []).map((part) => String(typeof part === 'object' ? part.key : part)).join('.');
			return path ? `${path}: ${issue.message}` : issue.message;
		})
		.join('; ');
}
