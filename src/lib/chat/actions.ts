/**
 * The chat's four action types, declared on the kit's public API: each with
 * its payload schema (the shared zod schema the server checks too, less the
 * `client_id` the kit adds), its reply decoder, and batchable (Outbox's
 * `send_batch` takes them all). Their optimistic effect on a room is the
 * chat's projection (`view.ts`), one pass over a room's items.
 */
import { defineAction } from '../outbox/index.js';
import type { Message } from '../protocol/message.js';
import { deleteMessageSchema, describeZodError, editMessageSchema, markReadSchema, sendMessageSchema } from '../protocol/schemas.js';
import type { z } from 'zod';
import { readMessage } from './wire.js';
import { sendMessageWire } from './attachments.js';

/** `{message}`: the reply to a send, an edit or a deletion. */
export interface MessageReply {
	message: Message;
}

function messageReply(response: unknown): MessageReply {
	const message = readMessage((response as { message?: unknown } | null)?.message);
	if (message === null) throw new Error('the reply has no message the chat can read');
	return { message };
}

function unreadReply(response: unknown): { unread_count: number } {
	const count = (response as { unread_count?: unknown } | null)?.unread_count;
	if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0) throw new Error('the reply has no unread_count');
	return { unread_count: count };
}

/**
 * A payload check from the server's own schema of the event (which includes
 * the `client_id` the kit adds when it sends): checked as the server will
 * check it, returned without the id.
 */
function checkedAs<S extends z.ZodType<{ client_id: string }>>(schema: S) {
	return (payload: unknown): Omit<z.output<S>, 'client_id'> => {
		const parsed = schema.safeParse({ ...(payload as object), client_id: 'pending' });
		if (!parsed.success) throw new Error(describeZodError(parsed.error));
		const { client_id: _id, ...rest } = parsed.data;
		return rest;
	};
}

export const chatActions = {
	// Files ride along (`add(..., { files })`): uploaded first, then named in `attachments`.
	send_message: defineAction({ schema: checkedAs(sendMessageSchema), batchable: true, reply: messageReply, toWire: (payload, { uploads }) => sendMessageWire(payload, uploads) }),
	edit_message: defineAction({ schema: checkedAs(editMessageSchema), batchable: true, reply: messageReply }),
	delete_message: defineAction({ schema: checkedAs(deleteMessageSchema), batchable: true, reply: messageReply }),
	mark_read: defineAction({ schema: checkedAs(markReadSchema), batchable: true, reply: unreadReply })
};

export type ChatActions = typeof chatActions;
