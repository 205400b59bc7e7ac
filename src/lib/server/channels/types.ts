/**
 * The public shape of the Phoenix Channels server: what an app gives it
 * (authentication, routes of plain async handlers) and what it gets back.
 * The protocol layer knows nothing of chat.
 */
import type { IncomingMessage } from 'node:http';
import type { Logger } from '../logger.js';

export type { Logger };

/** A reply from a handler: `{status, response}` as Phoenix sends it. */
export type HandlerReply =
	| { status: 'ok'; response?: Record<string, unknown> | ArrayBuffer | Uint8Array }
	| { status: 'error'; response: Record<string, unknown> | ArrayBuffer | Uint8Array }
	| { status: string; response?: Record<string, unknown> | ArrayBuffer | Uint8Array };

/** What every handler of one joined channel sees. */
export interface ChannelContext<Assigns = Record<string, unknown>> {
	/** The connection's assigns, as `authenticate` returned them. */
	readonly assigns: Assigns;
	readonly topic: string;
	readonly joinRef: string;
	/** A per-connection id (unique within this process). */
	readonly connectionId: string;
	/** Push to this one client: `[JR,null,T,event,payload]`. */
	push(event: string, payload: Record<string, unknown> | Uint8Array): void;
	/** Broadcast to every subscriber of this topic (through the pub/sub port), this channel included. */
	broadcast(event: string, payload: Record<string, unknown>): void;
	/** Broadcast to every subscriber except this channel (Phoenix `broadcast_from`). */
	broadcastFrom(event: string, payload: Record<string, unknown>): void;
	/** Per-channel state the app may keep (set in `join`). */
	state: Record<string, unknown>;
	/**
	 * End this channel from the server: sends `[JR,JR,T,"phx_close",{}]` (the
	 * client does not rejoin) and calls `terminate(ctx, 'stopped')`, like
	 * Phoenix's `{:stop, :normal, socket}`. Optional so that app-side fakes
	 * need not provide it; the channel server always does.
	 */
	close?(): void;
}

export type JoinResult =
	| { status: 'ok'; response?: Record<string, unknown> }
	| { status: 'error'; response: Record<string, unknown> };

/**
 * A handler for one event. The payload is whatever the client sent (already
 * JSON-decoded, or a Uint8Array for a binary frame when `binary` is true).
 * Return a reply, or `undefined` for Phoenix's `{:noreply, socket}`.
 * A thrown error crashes this channel only: `phx_error {reason:"channel_crash"}`.
 */
export type EventHandler<Assigns> = (
	ctx: ChannelContext<Assigns>,
	payload: unknown
) => Promise<HandlerReply | undefined> | HandlerReply | undefined;

export interface ChannelRoute<Assigns = Record<string, unknown>> {
	/** An exact topic, or a prefix ending in `*` (`"room:*"`). */
	pattern: string;
	/** Authorise the join; a throw answers `{reason:"join crashed"}`. */
	join(ctx: ChannelContext<Assigns>, payload: unknown): Promise<JoinResult> | JoinResult;
	/** Handlers by event name. An unknown event gets `error {reason:"invalid"}` (configurable). */
	events: Record<string, EventHandler<Assigns> | { handler: EventHandler<Assigns>; binary: true }>;
	/** Runs after the join reply went out (Phoenix's `send(self(), :after_join)`). */
	afterJoin?(ctx: ChannelContext<Assigns>): void | Promise<void>;
	/** Called with `'left' | 'closed' | 'duplicate_join' | 'kicked' | 'stopped'` when the channel ends without a crash. */
	terminate?(ctx: ChannelContext<Assigns>, reason: string): void;
}

export interface AuthenticateInput {
	/** The token from the `authToken` subprotocol, else the `token` query param, else null. */
	token: string | null;
	/** Query params of the upgrade request (without `vsn`). */
	params: Record<string, string>;
	request: IncomingMessage;
}

export interface ChannelServerOptions<Assigns = Record<string, unknown>> {
	/** Upgrade path, default `/socket/websocket`. */
	path?: string;
	/** Return the connection's assigns, or null to refuse the upgrade with HTTP 403. */
	authenticate(input: AuthenticateInput): Promise<Assigns | null> | Assigns | null;
	/**
	 * Group key for `disconnect(key)` (Phoenix's socket `id`), e.g. `"user:42"`.
	 * Return null for anonymous connections.
	 */
	socketKey?(assigns: Assigns): string | null;
	/** Origin check: called only when the request has an `Origin` header. Default: same host only. */
	checkOrigin?(origin: string, request: IncomingMessage): boolean;
	routes: ChannelRoute<Assigns>[];
	/** Default 100 (Phoenix `max_channels_per_transport`). */
	maxChannelsPerSocket?: number;
	/** Close sockets silent this long; default 60_000 (Phoenix's websocket timeout). One sweep timer for all. */
	idleTimeoutMs?: number;
	/** Largest inbound frame in bytes; default 1_048_576. */
	maxPayload?: number;
	/** Per-socket token bucket for channel events (not heartbeats/joins): refill per second and burst. */
	rateLimit?: { perSecond: number; burst: number };
	pubsub?: PubSub;
	logger?: Logger;
	/** Hooks for metrics, called on hot paths: keep each to a counter bump. */
	observer?: ChannelObserver;
	/**
	 * Debug/test hook: every frame in and out and every open and close, per
	 * connection. It sees payloads, so leave it unset in production.
	 */
	trace?(event: TraceEvent): void;
}

/**
 * What the server tells a metrics layer. Every hook is optional and called
 * synchronously where the thing happens, so it must be cheap.
 */
export interface ChannelObserver {
	/** A connect was refused: bad `vsn`, foreign origin, no valid token, shutting down, or `authenticate` threw. */
	connectRefused?(why: 'version' | 'origin' | 'token' | 'closing' | 'error'): void;
	/** An event was answered before reaching a handler: over the socket's rate limit or pipeline, or unknown. */
	eventRefused?(event: string, why: 'rate_limited' | 'pipeline_full' | 'unknown'): void;
	/** A broadcast was written to `recipients` subscribers in this process. */
	fannedOut?(recipients: number): void;
}

/** What the `trace` hook sees. `data` is the frame as sent or received. */
export type TraceEvent =
	| { type: 'open'; connectionId: string }
	| { type: 'in' | 'out'; connectionId: string; data: string | Uint8Array }
	| { type: 'close'; connectionId: string; code: number; reason: string };

/** Cross-process fan-out. In-process by default; PostgreSQL LISTEN/NOTIFY for a cluster. */
export interface PubSub {
	/** Deliver to every process (this one included). */
	publish(message: PubSubMessage): void | Promise<void>;
	/** Receive every published message (this process's own included). */
	subscribe(handler: (message: PubSubMessage) => void): () => void;
	close?(): Promise<void> | void;
}

export type PubSubMessage =
	| { kind: 'broadcast'; topic: string; event: string; payload: Record<string, unknown>; exceptConnection?: string; exceptJoinRef?: string; origin?: string }
	| { kind: 'disconnect'; socketKey: string; origin?: string }
	/**
	 * Never published: a cluster pubsub tells its own process that messages from
	 * other processes may have been missed (its LISTEN connection was lost and
	 * is back, or one could not be read). The channel server then closes its
	 * sockets (1001) so every client reconnects and syncs: no silent gap.
	 */
	| { kind: 'gap'; reason: string };

/** The channel a `broadcast_from` leaves out: its connection and join (a `ChannelContext` is one). */
export type BroadcastSender = Pick<ChannelContext<unknown>, 'connectionId' | 'joinRef'>;

export interface ChannelServer {
	/** Handle an HTTP upgrade; returns false when the path is not ours (leave it to others, e.g. Vite HMR). */
	handleUpgrade(request: IncomingMessage, socket: import('node:stream').Duplex, head: Buffer): boolean;
	/**
	 * Serve the LongPoll transport (`GET`/`POST`/`OPTIONS` on the socket path
	 * with `/longpoll` for `/websocket`); returns false for any other request.
	 */
	handleLongPoll(request: IncomingMessage, response: import('node:http').ServerResponse): boolean;
	/** Attach to a server's `upgrade` event. */
	attach(server: import('node:http').Server): void;
	/**
	 * Broadcast `[null,null,topic,event,payload]` to every subscriber in the
	 * cluster (encoded once per process). With `from` (a channel of this
	 * process), every subscriber but that channel: Phoenix's `broadcast_from`.
	 */
	broadcast(topic: string, event: string, payload: Record<string, unknown>, from?: BroadcastSender): void;
	/** Close every connection with this socket key, cluster-wide, with code 1001. */
	disconnect(socketKey: string): void;
	/** Number of open connections in this process. */
	readonly connectionCount: number;
	/** Number of joined channels in this process. */
	readonly channelCount: number;
	close(): Promise<void>;
}
