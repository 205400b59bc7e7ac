/**
 * The Phoenix Channels server: takes HTTP upgrades (version, origin, token,
 * `authenticate`) and LongPoll sessions (longpoll.ts), keeps the registry of
 * connections, fans broadcasts out through the pub/sub port, kicks by socket
 * key, and closes idle sockets with one sweep timer for all of them.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { endChannel } from './channel.js';
import { Connection, type Admission, type Admitted, type Hub, type Wire } from './connection.js';
import { dispatchMessage } from './dispatch.js';
import { createLongPollTransport } from './longpoll.js';
import { LongPollWire } from './longpoll-wire.js';
import { resolveOptions } from './options.js';
import { isPromiseLike } from './run-event.js';
import { CLOSE_CODES } from './phoenix.js';
import { PreparedBroadcast } from './prepared-broadcast.js';
import { negotiateSerializer } from './serializer.js';
import { TopicIndex } from './topic-index.js';
import type { ChannelServer, ChannelServerOptions, PubSubMessage } from './types.js';
import { WriteBatch } from './write-batch.js';
import { extractToken, isSameHostOrigin, parseUpgradeTarget, refuseUpgrade, selectSubprotocol } from './upgrade.js';

/** How long `close()` waits for clients to answer the close handshake before cutting them off. */
const CLOSE_GRACE_MS = 1000;

/**
 * Create a channel server. Attach it to the HTTP server your app runs on; it
 * takes upgrades on `options.path` and leaves every other path alone.
 *
 * @example
 * const channels = createChannelServer({
 *   authenticate: ({ token }) => (token ? verify(token) : null),
 *   socketKey: (user) => `user:${user.id}`,
 *   routes: [{ pattern: 'room:*', join: () => ({ status: 'ok' }), events: { ping: () => ({ status: 'ok' }) } }]
 * });
 * channels.attach(httpServer);
 */
export function createChannelServer<A = Record<string, unknown>>(input: ChannelServerOptions<A>): ChannelServer {
	const options = resolveOptions(input);
	const { logger, pubsub, observer } = options;
	const topics = new TopicIndex<A>();
	const connections = new Map<Wire, Connection<A>>();
	const byKey = new Map<string, Set<Connection<A>>>();
	let lastConnectionId = 0;
	let closing: Promise<void> | null = null;

	const hub: Hub<A> = { options, topics, serverId: randomBytes(8).toString('hex'), writes: new WriteBatch(), publish };
	const wss = new WebSocketServer({
		noServer: true,
		clientTracking: false,
		perMessageDeflate: false,
		maxPayload: options.maxPayload,
		handleProtocols: selectSubprotocol
	});
	/** `disconnect` messages seen, and the count at each key's last one (to close sockets authenticated meanwhile). */
	let disconnects = 0;
	const lastDisconnectOf = new Map<string, number>();
	const unsubscribe = pubsub.subscribe(onPubSub);
	const sweepTimer = setInterval(sweepIdle, sweepIntervalMs(options.idleTimeoutMs));
	sweepTimer.unref();

	function publish(message: PubSubMessage): void {
		try {
			const sent = pubsub.publish(message);
			if (isPromiseLike(sent)) {
				sent.then(undefined, (err: unknown) => logger.error({ err, kind: message.kind }, 'pubsub publish failed'));
			}
		} catch (err) {
			logger.error({ err, kind: message.kind }, 'pubsub publish failed');
		}
	}

	function onPubSub(message: PubSubMessage): void {
		if (message.kind === 'disconnect') {
			if (lastDisconnectOf.size >= 10_000) lastDisconnectOf.clear(); // bounded: only connects in flight need it
			lastDisconnectOf.set(message.socketKey, ++disconnects);
			for (const conn of byKey.get(message.socketKey) ?? []) kick(conn);
			return;
		}
		if (message.kind === 'gap') {
			// Broadcasts from other processes may be missing here: every client reconnects and syncs.
			const open = [...connections.values()].filter((conn) => !conn.isClosed);
			logger.warn({ reason: message.reason, sockets: open.length }, 'pubsub gap: closing this process\'s sockets so their clients sync');
			for (const conn of open) kick(conn, 'pubsub gap');
			return;
		}
		// Connection ids are per process: exclude only when the broadcast started here.
		const except =
			message.origin === hub.serverId && message.exceptConnection !== undefined && message.exceptJoinRef !== undefined
				? { connectionId: message.exceptConnection, joinRef: message.exceptJoinRef }
				: undefined;
		try {
			// Fan out first: an optional call (`?.()`) would skip its argument when no observer listens.
			const recipients = topics.fanOut(new PreparedBroadcast(message.topic, message.event, message.payload), except);
			observer.fannedOut?.(recipients);
		} catch (err) {
			logger.error({ err, topic: message.topic, event: message.event }, 'broadcast payload is not JSON');
		}
	}

	function handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): boolean {
		const target = parseUpgradeTarget(request);
		if (!target || target.pathname !== options.path) return false;
		// The client may hang up while we authenticate; an unhandled 'error' would crash the process.
		socket.on('error', ignoreError);
		void accept(request, socket, head, target.params);
		return true;
	}

	/** Who may connect: version, origin and token checked; a refusal is an HTTP status. */
	async function admit(request: IncomingMessage, query: Record<string, string>, token: string | null): Promise<Admission<A>> {
		if (closing) return refused('closing', 503);
		const disconnectsBefore = disconnects;
		const { vsn, ...params } = query;
		// V1 for 1.0.x and for no vsn at all (as Phoenix), V2 for 2.0.x; anything else is refused.
		const serializer = negotiateSerializer(vsn);
		if (!serializer) {
			logger.debug({ vsn }, 'connect refused: no serializer for this vsn');
			return refused('version', 400);
		}
		const origin = request.headers.origin;
		if (origin !== undefined && !originAllowed(origin, request)) {
			logger.warn({ origin }, 'connect refused: foreign origin');
			return refused('origin', 403);
		}
		try {
			const assigns = await options.authenticate({ token, params, request });
			if (assigns == null) {
				logger.debug({}, 'connect refused: authenticate returned null');
				return refused('token', 403);
			}
			if (closing) return refused('closing', 503);
			return { assigns, key: options.socketKey(assigns), serializer, disconnectsBefore };
		} catch (err) {
			logger.error({ err }, 'authenticate threw');
			return refused('error', 500);
		}
	}

	function refused<S extends 400 | 403 | 500 | 503>(why: 'version' | 'origin' | 'token' | 'closing' | 'error', status: S): { refuse: S } {
		observer.connectRefused?.(why);
		return { refuse: status };
	}

	async function accept(request: IncomingMessage, socket: Duplex, head: Buffer, query: Record<string, string>) {
		const admitted = await admit(request, query, extractToken(request, query));
		if ('refuse' in admitted) return refuseUpgrade(socket, admitted.refuse);
		if (socket.destroyed) return;
		socket.off('error', ignoreError);
		wss.handleUpgrade(request, socket, head, (ws) => {
			register(ws, admitted);
			// Shared listeners (they find their connection through `this`): no closures per socket.
			ws.on('message', onMessage);
			ws.on('close', onClose);
			ws.on('error', onSocketError);
		});
	}

	function originAllowed(origin: string, request: IncomingMessage): boolean {
		try {
			return options.checkOrigin ? options.checkOrigin(origin, request) === true : isSameHostOrigin(origin, request);
		} catch (err) {
			logger.error({ err, origin }, 'checkOrigin threw');
			return false;
		}
	}

	function register(wire: Wire, { assigns, key, serializer, disconnectsBefore }: Admitted<A>): void {
		const conn = new Connection(hub, (++lastConnectionId).toString(36), wire, assigns, key, serializer, Date.now());
		connections.set(wire, conn);
		if (key !== null) {
			let group = byKey.get(key);
			if (!group) byKey.set(key, (group = new Set()));
			group.add(conn);
		}
		options.trace?.({ type: 'open', connectionId: conn.id });
		// `disconnect(key)` (a sign-out) while this socket was being authenticated: the check it
		// passed is stale, so it goes the way of the key's other sockets.
		if (key !== null && disconnectsBefore !== undefined && (lastDisconnectOf.get(key) ?? 0) > disconnectsBefore) kick(conn);
	}

	function onMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
		const conn = connections.get(this);
		if (!conn || conn.isClosed) return;
		conn.lastSeen = Date.now();
		const bytes = toBuffer(data);
		options.trace?.({ type: 'in', connectionId: conn.id, data: isBinary ? bytes : bytes.toString('utf8') });
		try {
			dispatchMessage(conn, bytes, isBinary);
		} catch (err) {
			// A bug in here must cost one frame, never the socket.
			logger.error({ err, connectionId: conn.id }, 'frame handling threw');
		}
	}

	function onClose(this: WebSocket, code: number, reason: Buffer): void {
		connectionClosed(this, code, reason.toString('utf8'));
	}

	function connectionClosed(wire: Wire, code: number, reason: string): void {
		const conn = connections.get(wire);
		if (!conn) return;
		connections.delete(wire);
		if (conn.socketKey !== null) {
			const group = byKey.get(conn.socketKey);
			group?.delete(conn);
			if (group?.size === 0) byKey.delete(conn.socketKey);
		}
		shutDown(conn, 'closed');
		options.trace?.({ type: 'close', connectionId: conn.id, code, reason });
	}

	function onSocketError(this: WebSocket, err: Error): void {
		// ws closes the socket after an error (e.g. 1009 for maxPayload); onClose cleans up.
		logger.debug({ err, connectionId: connections.get(this)?.id }, 'websocket error');
	}

	/** End every channel of `conn` (terminate with `reason`) and stop sending to it. */
	function shutDown(conn: Connection<A>, reason: string): void {
		for (const channel of conn.channels.values()) endChannel(channel, 'none', reason);
		conn.isClosed = true;
	}

	/** Close with 1001 (never 1000: clients before 1.8.16 would not come back). */
	function kick(conn: Connection<A>, reason = 'kicked'): void {
		if (conn.isClosed) return;
		shutDown(conn, reason);
		conn.close(CLOSE_CODES.goingAway, 'disconnect');
	}

	function sweepIdle(): void {
		const cutoff = Date.now() - options.idleTimeoutMs;
		for (const conn of connections.values()) {
			if (conn.lastSeen >= cutoff || conn.ws.polling) continue;
			logger.debug({ connectionId: conn.id }, 'idle websocket terminated');
			shutDown(conn, 'closed');
			// A silent peer is likely gone: no close handshake to wait for.
			conn.ws.terminate();
		}
	}

	const longPoll = createLongPollTransport<A>({
		options,
		originAllowed,
		admit,
		register,
		connectionOf: (wire) => connections.get(wire),
		closed: connectionClosed
	});

	return {
		handleUpgrade,
		handleLongPoll: longPoll.handle,
		attach(server: Server) {
			server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
				// Not ours: leave it to another upgrade listener (Vite HMR); if none, refuse it.
				if (!handleUpgrade(request, socket, head) && server.listenerCount('upgrade') === 1) {
					refuseUpgrade(socket, 400);
				}
			});
		},
		broadcast(topic, event, payload, from) {
			if (typeof topic !== 'string' || typeof event !== 'string') {
				throw new TypeError('broadcast(topic, event, payload) needs string topic and event');
			}
			if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
				throw new TypeError('broadcast payload must be a plain object');
			}
			if (from === undefined) return publish({ kind: 'broadcast', topic, event, payload, origin: hub.serverId });
			if (typeof from?.connectionId !== 'string' || typeof from.joinRef !== 'string') {
				throw new TypeError('broadcast(..., from) needs the sending channel ({connectionId, joinRef})');
			}
			publish({ kind: 'broadcast', topic, event, payload, exceptConnection: from.connectionId, exceptJoinRef: from.joinRef, origin: hub.serverId });
		},
		disconnect(socketKey) {
			if (typeof socketKey !== 'string') throw new TypeError('disconnect(socketKey) needs a string key');
			publish({ kind: 'disconnect', socketKey, origin: hub.serverId });
		},
		get connectionCount() {
			return connections.size;
		},
		get channelCount() {
			return topics.channelCount;
		},
		close() {
			closing ??= closeAll();
			return closing;
		}
	};

	async function closeAll(): Promise<void> {
		clearInterval(sweepTimer);
		unsubscribe();
		const sockets = [...connections.keys()].filter((wire): wire is WebSocket => !(wire instanceof LongPollWire));
		const closed = Promise.all(sockets.map((ws) => new Promise((resolve) => ws.once('close', resolve))));
		for (const conn of connections.values()) kick(conn, 'closed');
		let graceTimer: NodeJS.Timeout | undefined;
		await Promise.race([closed, new Promise((resolve) => (graceTimer = setTimeout(resolve, CLOSE_GRACE_MS)))]);
		clearTimeout(graceTimer);
		for (const wire of connections.keys()) wire.terminate();
		wss.close();
		if (options.ownsPubsub) await pubsub.close?.();
	}
}

/** One sweep for every socket: often enough that a socket dies within 1.25× the timeout. */
function sweepIntervalMs(idleTimeoutMs: number): number {
	return Math.min(15_000, Math.max(10, Math.floor(idleTimeoutMs / 4)));
}

function toBuffer(data: RawData): Buffer {
	if (Buffer.isBuffer(data)) return data;
	if (Array.isArray(data)) return Buffer.concat(data);
	return Buffer.from(data);
}

function ignoreError(): void {}
