/**
 * The chat on the kit's browser engine: `createBrowserOutbox` with the chat's
 * actions and Outbox's own session check (`GET /api/session` answers 401 for
 * a refused token), and the chat preset over it.
 *
 * @example
 * const { outbox, chat } = createBrowserChat({ token: () => session.token, user: session.user });
 */
import { createBrowserOutbox, type BrowserOutboxOptions, type Outbox } from '../outbox/index.js';
import { chatActions, type ChatActions } from './actions.js';
import { createChat, type Chat, type ChatOptions } from './chat.js';

/** Outbox's HTTP endpoint that answers 401 for a token the server no longer takes. */
export const SESSION_URL = '/api/session';

export interface BrowserChatOptions extends Omit<BrowserOutboxOptions<ChatActions>, 'actions'> {
	chat?: ChatOptions;
}

export function createBrowserChat(options: BrowserChatOptions): { outbox: Outbox<ChatActions>; chat: Chat } {
	const { chat: chatOptions, ...outboxOptions } = options;
	const outbox = createBrowserOutbox<ChatActions>({ sessionCheck: SESSION_URL, ...outboxOptions, actions: chatActions });
	return { outbox, chat: createChat(outbox, chatOptions) };
}
