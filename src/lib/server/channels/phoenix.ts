/**
 * Phoenix-level wire names and numbers (the app-level ones live in
 * `src/lib/protocol/events.ts`). Code never spells these strings elsewhere.
 */
import { SOCKET_PATH } from '../../protocol/events.js';

/** Reserved channel events (the official client's `CHANNEL_EVENTS`). */
export const PHX_EVENTS = {
	join: 'phx_join',
	leave: 'phx_leave',
	reply: 'phx_reply',
	close: 'phx_close',
	error: 'phx_error',
	heartbeat: 'heartbeat'
} as const;

/** The socket-level topic heartbeats travel on. */
export const PHOENIX_TOPIC = 'phoenix';

/** The subprotocol the server must select whenever the client offers it. */
export const PHOENIX_SUBPROTOCOL = 'phoenix';

/** Prefix of the subprotocol entry that carries the auth token (standard base64, no padding). */
export const AUTH_TOKEN_PREFIX = 'base64url.bearer.phx.';

/** `{reason}` strings Phoenix itself sends (app errors use `REASONS` from the protocol module). */
export const PHX_REASONS = {
	unmatchedTopic: 'unmatched topic',
	joinCrashed: 'join crashed',
	tooManyChannels: 'too many channels joined',
	channelCrash: 'channel_crash'
} as const;

/**
 * WebSocket close codes the server uses. Never 1000 for a kick: clients
 * 1.8.0–1.8.15 treat a server close with 1000 as final and stop reconnecting.
 */
export const CLOSE_CODES = {
	/** "going away": kicks (`disconnect(key)`) and server shutdown; the client reconnects. */
	goingAway: 1001,
	/** ws closes with this itself when a frame exceeds `maxPayload`. */
	messageTooBig: 1009
} as const;

/** Defaults, as Phoenix has them. */
export const DEFAULTS = {
	path: SOCKET_PATH,
	maxChannelsPerSocket: 100,
	idleTimeoutMs: 60_000,
	maxPayload: 1_048_576
} as const;
