/**
 * The chat on the kit's browser engine: `createBrowserOutbox` with the chat's
 * actions and Outbox's own session check (`GET /api/session` answers 401 for
 * a refused token), and the chat preset over it.
 *
 * @example
 * const { outbox, chat } = createBrowserChat({ socketToken: SOCKET_TOKEN_URL, user: session.user });
 */
import { createBrowserOutbox, type BrowserOutboxOptions, type Outbox } from '../outbox/index.js';
import { chatActions, type ChatActions } from './actions.js';
import { createChat, type Chat, type ChatOptions } from './chat.js';

/** Outbox's HTTP endpoint that answers 401 for a token the server no longer takes. */
export const SESSION_URL = '/api/session';
/** Outbox's endpoint handing out short-lived socket tokens for the session cookie (`socketToken`). */
export const SOCKET_TOKEN_URL = '/api/socket-token';

/**
 * Batches of one room in flight at once: Outbox's `send_batch` honours
 * `after`, so a room's queue streams instead of waiting a round trip per
 * batch. 8 (the kit's most) × 100 actions: on a busy machine 4 left the
 * server waiting for the page (kit-browser, 3 pairs of runs: 8 drained
 * 10,000 in 1.5–2.6 s, 4 in 2.1–3.3 s); the server's per-channel backlog
 * holds 1,000 events.
 */
export const CHAT_BATCHES_IN_FLIGHT = 8;

export interface BrowserChatOptions extends Omit<BrowserOutboxOptions<ChatActions>, 'actions'> {
	chat?: ChatOptions;
}

export function createBrowserChat(options: BrowserChatOptions): { outbox: Outbox<ChatActions>; chat: Chat } {
	const { chat: chatOptions, ...outboxOptions } = options;
	// With socket tokens the token refresh is the session check (a refused cookie: signed out).
	const check = outboxOptions.socketToken === undefined ? { sessionCheck: SESSION_URL } : {};
	const outbox = createBrowserOutbox<ChatActions>({ ...check, batchesInFlight: CHAT_BATCHES_IN_FLIGHT, ...outboxOptions, actions: chatActions });
	return { outbox, chat: createChat(outbox, chatOptions) };
}
