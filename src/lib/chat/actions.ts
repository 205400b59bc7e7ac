/**
 * The chat's four action types, declared on the kit's public API: each with
 * its payload schema (the shared zod schema the server checks too, less the
 * `client_id` the kit adds), its reply decoder, and batchable (Outbox's
 * `send_batch` takes them all). Their optimistic effect on a room is the
 * chat's projection (`view.ts`), one pass over a room's items.
 */
import { defineAction } from '../outbox/index.js';
import type { Message } from '../protocol/message.js';
import { deleteMessageSchema, editMessageSchema, markReadSchema, sendMessageSchema } from '../protocol/schemas.js';
import { readMessage } from './wire.js';

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

export const chatActions = {
	send_message: defineAction({ schema: sendMessageSchema.omit({ client_id: true }), batchable: true, reply: messageReply }),
	edit_message: defineAction({ schema: editMessageSchema.omit({ client_id: true }), batchable: true, reply: messageReply }),
	delete_message: defineAction({ schema: deleteMessageSchema.omit({ client_id: true }), batchable: true, reply: messageReply }),
	mark_read: defineAction({ schema: markReadSchema.omit({ client_id: true }), batchable: true, reply: unreadReply })
};

export type ChatActions = typeof chatActions;
