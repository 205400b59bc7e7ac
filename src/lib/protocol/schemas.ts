/**
 * Payload schemas (zod) shared by client and server. The server parses every
 * inbound payload with these at the boundary; the client uses the same ones
 * to check what it is about to queue and what the server sends back.
 *
 * Objects are strict: a field the contract does not list (a client-supplied
 * `author`, say) makes the payload `invalid`.
 */
import { z } from 'zod';
import { ACTION_TYPES, LIMITS, SLUG_RE } from './events.js';

const codePoints = (s: string) => {
	let n = 0;
	for (const _ of s) n++;
	return n;
};

const isBlank = (s: string) => s.trim().length === 0;

/** Message text of at most 4,000 characters (code points); may be empty (a send with files). */
export const bodyTextSchema = z.string().refine((s) => codePoints(s) <= LIMITS.bodyMaxChars, {
	message: `body is longer than ${LIMITS.bodyMaxChars} characters`
});

/** A message body: 1–4,000 characters (code points), not only whitespace. */
export const bodySchema = z
	.string()
	.refine((s) => !isBlank(s), { message: 'body is empty' })
	.refine((s) => codePoints(s) <= LIMITS.bodyMaxChars, {
		message: `body is longer than ${LIMITS.bodyMaxChars} characters`
	});

/** One user action's id: unique per author, time-sortable when the kit makes it. */
export const clientIdSchema = z
	.string()
	.min(1)
	.max(LIMITS.clientIdMaxChars)
	// Any visible ASCII (UUIDs, ULIDs, "tab1:42"): no spaces or control characters to hide in logs.
	.regex(/^[\x21-\x7e]+$/, 'client_id may use only visible ASCII characters (no spaces)');

export const messageIdSchema = z
	.string()
	.regex(/^[A-Za-z0-9_-]+$/, 'id may use only A-Z a-z 0-9 _ -')
	.min(1)
	.max(64);

export const versionSchema = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
export const seqSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** An opaque sync cursor as the server gave it out. */
export const cursorSchema = z
	.string()
	.regex(/^[A-Za-z0-9._-]+$/, 'cursor is not one the server gave')
	.min(1)
	.max(100);

export const slugSchema = z.string().regex(SLUG_RE, 'room slug must match [a-z0-9-]{1,40}');

/** An upload id as `POST /api/uploads` gave it (opaque to clients). */
export const uploadIdSchema = z
	.string()
	.regex(/^[A-Za-z0-9_-]+$/, 'upload id may use only A-Z a-z 0-9 _ -')
	.min(1)
	.max(64);

/**
 * `send_message`: a body, files (upload ids, at most 4, each once), or
 * both. The body may be empty only when there is a file.
 */
export const sendMessageSchema = z
	.strictObject({
		client_id: clientIdSchema,
		body: bodyTextSchema,
		attachments: z
			.array(uploadIdSchema)
			.max(LIMITS.attachmentsMax, `a message carries at most ${LIMITS.attachmentsMax} attachments`)
			.refine((ids) => new Set(ids).size === ids.length, { message: 'an upload is named twice' })
			.optional()
	})
	.refine((p) => !isBlank(p.body) || (p.attachments?.length ?? 0) > 0, { message: 'body is empty', path: ['body'] });

export const editMessageSchema = z.strictObject({
	client_id: clientIdSchema,
	id: messageIdSchema,
	body: bodySchema,
	base_version: versionSchema
});

export const deleteMessageSchema = z.strictObject({
	client_id: clientIdSchema,
	id: messageIdSchema,
	base_version: versionSchema
});

export const markReadSchema = z.strictObject({
	client_id: clientIdSchema,
	seq: seqSchema
});

export const actionTypeSchema = z.enum(ACTION_TYPES);

/**
 * One action inside `send_batch` (and `POST /api/sync/events`). Its payload is
 * the event's own payload; it may repeat `client_id`, which must then match.
 * The payload is checked against its type's schema one action at a time, so
 * one bad action fails alone (see `parseBatchAction`).
 */
export const batchActionSchema = z.strictObject({
	client_id: clientIdSchema,
	// Checked per action (`parseBatchAction`): an unknown type fails that action alone.
	type: z.string().min(1).max(64),
	payload: z.record(z.string(), z.unknown())
});

/**
 * `after`: the last `client_id` of the batch the client sent just before this
 * one on the same channel. The server applies the batch only if that batch
 * was the last one it finished on this channel without a retryable failure;
 * otherwise it refuses the whole batch (`out_of_order`, nothing applied). So a
 * client may have several batches of one lane in flight and still never have
 * a later batch applied after an earlier one failed. Without `after`, a batch
 * is applied as it comes.
 */
export const sendBatchSchema = z.strictObject({
	actions: z.array(batchActionSchema).max(LIMITS.batchMaxActions),
	after: clientIdSchema.optional()
});

export const syncSchema = z.strictObject({
	since: cursorSchema.nullable()
});

export const historySchema = z.strictObject({
	before: seqSchema.nullable().default(null),
	limit: z.number().int().min(1).max(LIMITS.historyMaxLimit).default(50)
});

export const sessionRequestSchema = z.strictObject({
	name: z
		.string()
		.transform((s) => s.trim())
		.pipe(
			z
				.string()
				.min(1, 'name is empty')
				.max(LIMITS.nameMaxChars, `name is longer than ${LIMITS.nameMaxChars} characters`)
				.regex(/^[^\p{C}]+$/u, 'name may not contain control characters')
		),
	password: z
		.string()
		.min(LIMITS.passwordMinChars, 'password is empty')
		.max(LIMITS.passwordMaxChars, `password is longer than ${LIMITS.passwordMaxChars} characters`)
});

export const syncEventsRequestSchema = z.strictObject({
	room: slugSchema,
	actions: sendBatchSchema.shape.actions
});

/** A file as a message carries it. */
export const attachmentSchema = z.strictObject({
	id: uploadIdSchema,
	name: z.string().min(1),
	type: z.string(),
	size: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)
});

/** `POST /api/uploads` answer: `{upload}` (for a client checking what the server stored). */
export const uploadReplySchema = z.strictObject({
	upload: attachmentSchema.extend({ sha256: z.string().regex(/^[0-9a-f]{64}$/) })
});

export const messageSchema = z.strictObject({
	id: messageIdSchema,
	client_id: clientIdSchema,
	room: slugSchema,
	author: z.strictObject({ id: z.string(), name: z.string() }),
	body: z.string(),
	seq: seqSchema,
	version: versionSchema,
	deleted: z.boolean(),
	inserted_at: z.string(),
	updated_at: z.string(),
	// Optional: messages cached before attachments existed have none.
	attachments: z.array(attachmentSchema).max(LIMITS.attachmentsMax).optional()
});

/**
 * `changes`: every message one call changed (more than one), each once in its
 * latest state, in change order. A client upserts each as it would a single push.
 */
export const changesSchema = z.strictObject({ messages: z.array(messageSchema) });

export const syncCompleteSchema = z.strictObject({
	messages: z.array(messageSchema),
	cursor: cursorSchema,
	unread_count: z.number().int().min(0),
	complete: z.boolean()
});

export type SendMessagePayload = z.infer<typeof sendMessageSchema>;
export type EditMessagePayload = z.infer<typeof editMessageSchema>;
export type DeleteMessagePayload = z.infer<typeof deleteMessageSchema>;
export type MarkReadPayload = z.infer<typeof markReadSchema>;
export type BatchAction = z.infer<typeof batchActionSchema>;
export type SendBatchPayload = z.infer<typeof sendBatchSchema>;
export type SyncPayload = z.infer<typeof syncSchema>;
export type HistoryPayload = z.infer<typeof historySchema>;
export type SessionRequest = z.infer<typeof sessionRequestSchema>;
export type SyncCompletePayload = z.infer<typeof syncCompleteSchema>;
export type ChangesPayload = z.infer<typeof changesSchema>;
export type UploadReply = z.infer<typeof uploadReplySchema>;

/** A validated action, ready for the store: a discriminated union on `type`. */
export type Action =
	| { type: 'send_message'; client_id: string; payload: SendMessagePayload }
	| { type: 'edit_message'; client_id: string; payload: EditMessagePayload }
	| { type: 'delete_message'; client_id: string; payload: DeleteMessagePayload }
	| { type: 'mark_read'; client_id: string; payload: MarkReadPayload };

export const actionSchemas = {
	send_message: sendMessageSchema,
	edit_message: editMessageSchema,
	delete_message: deleteMessageSchema,
	mark_read: markReadSchema
} as const;

/** Parse one action of a given type from its event payload. */
export function parseAction(
	type: Action['type'],
	payload: unknown
): { ok: true; action: Action } | { ok: false; message: string } {
	const parsed = actionSchemas[type].safeParse(payload);
	if (!parsed.success) return { ok: false, message: describeZodError(parsed.error) };
	return { ok: true, action: { type, client_id: parsed.data.client_id, payload: parsed.data } as Action };
}

/** Parse one `send_batch` entry: the payload may omit `client_id`, or repeat the same one. */
export function parseBatchAction(entry: BatchAction) {
	const type = actionTypeSchema.safeParse(entry.type);
	if (!type.success) {
		return { ok: false as const, message: `unknown action type ${JSON.stringify(entry.type)}; one of ${ACTION_TYPES.join(', ')}` };
	}
	const inner = entry.payload;
	if ('client_id' in inner && inner.client_id !== entry.client_id) {
		return { ok: false as const, message: 'payload.client_id differs from the action client_id' };
	}
	return parseAction(type.data, { ...inner, client_id: entry.client_id });
}

/** One line a person can read, from a zod error. */
export function describeZodError(error: z.ZodError): string {
	const issue = error.issues[0];
	if (!issue) return 'invalid payload';
	const path = issue.path.length ? issue.path.join('.') + ': ' : '';
	return path + issue.message;
}
