/**
 * The Phoenix Channels server: takes HTTP upgrades (origin, token,
 * `authenticate`), keeps the registry of connections, fans broadcasts out
 * through the pub/sub port, kicks by socket key, and closes idle sockets with
 * one sweep timer for all of them.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { encodeTextFrame } from '../../protocol/frames.js';
import { endChannel } from './channel.js';
import { Connection, type Hub } from './connection.js';
import { dispatchMessage } from './dispatch.js';
import { resolveOptions } from './options.js';
import { isPromiseLike } from './run-event.js';
import { CLOSE_CODES } from './phoenix.js';
import { TopicIndex } from './topic-index.js';
import type { ChannelServer, ChannelServerOptions, PubSubMessage } from './types.js';
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
	const { logger, pubsub } = options;
	const topics = new TopicIndex<A>();
	const connections = new Map<WebSocket, Connection<A>>();
	const byKey = new Map<string, Set<Connection<A>>>();
	let lastConnectionId = 0;
	let closing: Promise<void> | null = null;

	const hub: Hub<A> = { options, topics, serverId: randomBytes(8).toString('hex'), publish };
	const wss = new WebSocketServer({
		noServer: true,
		clientTracking: false,
		perMessageDeflate: false,
		maxPayload: options.maxPayload,
		handleProtocols: selectSubprotocol
	});
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
			for (const conn of byKey.get(message.socketKey) ?? []) kick(conn);
			return;
		}
		let frame: Buffer;
		try {
			frame = Buffer.from(encodeTextFrame(null, null, message.topic, message.event, message.payload));
		} catch (err) {
			logger.error({ err, topic: message.topic, event: message.event }, 'broadcast payload is not JSON');
			return;
		}
		// Connection ids are per process: exclude only when the broadcast started here.
		const except =
			message.origin === hub.serverId && message.exceptConnection !== undefined && message.exceptJoinRef !== undefined
				? { connectionId: message.exceptConnection, joinRef: message.exceptJoinRef }
				: undefined;
		topics.fanOut(message.topic, frame, except);
	}

	function handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): boolean {
		const target = parseUpgradeTarget(request);
		if (!target || target.pathname !== options.path) return false;
		// The client may hang up while we authenticate; an unhandled 'error' would crash the process.
		socket.on('error', ignoreError);
		void accept(request, socket, head, target.params);
		return true;
	}

	async function accept(request: IncomingMessage, socket: Duplex, head: Buffer, query: Record<string, string>) {
		if (closing) return refuseUpgrade(socket, 503);
		const { vsn, ...params } = query;
		// Only the V2 serializer is spoken; a missing vsn is taken as V2 for raw clients.
		if (vsn !== undefined && !vsn.startsWith('2.')) return refuseUpgrade(socket, 400);
		const origin = request.headers.origin;
		if (origin !== undefined && !originAllowed(origin, request)) {
			logger.warn({ origin }, 'websocket upgrade refused: foreign origin');
			return refuseUpgrade(socket, 403);
		}
		let assigns: A | null;
		let key: string | null;
		try {
			assigns = await options.authenticate({ token: extractToken(request, query), params, request });
			key = assigns == null ? null : options.socketKey(assigns);
		} catch (err) {
			logger.error({ err }, 'websocket authenticate threw');
			return refuseUpgrade(socket, 500);
		}
		if (assigns == null) {
			logger.debug({}, 'websocket upgrade refused: authenticate returned null');
			return refuseUpgrade(socket, 403);
		}
		if (closing) return refuseUpgrade(socket, 503);
		if (socket.destroyed) return;
		socket.off('error', ignoreError);
		const accepted = assigns;
		wss.handleUpgrade(request, socket, head, (ws) => onOpen(ws, accepted, key));
	}

	function originAllowed(origin: string, request: IncomingMessage): boolean {
		try {
			return options.checkOrigin ? options.checkOrigin(origin, request) === true : isSameHostOrigin(origin, request);
		} catch (err) {
			logger.error({ err, origin }, 'checkOrigin threw');
			return false;
		}
	}

	function onOpen(ws: WebSocket, assigns: A, key: string | null): void {
		const conn = new Connection(hub, (++lastConnectionId).toString(36), ws, assigns, key, Date.now());
		connections.set(ws, conn);
		if (key !== null) {
			let group = byKey.get(key);
			if (!group) byKey.set(key, (group = new Set()));
			group.add(conn);
		}
		// Shared listeners (they find their connection through `this`): no closures per socket.
		ws.on('message', onMessage);
		ws.on('close', onClose);
		ws.on('error', onSocketError);
		options.trace?.({ type: 'open', connectionId: conn.id });
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
		const conn = connections.get(this);
		if (!conn) return;
		connections.delete(this);
		if (conn.socketKey !== null) {
			const group = byKey.get(conn.socketKey);
			group?.delete(conn);
			if (group?.size === 0) byKey.delete(conn.socketKey);
		}
		shutDown(conn, 'closed');
		options.trace?.({ type: 'close', connectionId: conn.id, code, reason: reason.toString('utf8') });
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
		conn.ws.close(CLOSE_CODES.goingAway, 'disconnect');
	}

	function sweepIdle(): void {
		const cutoff = Date.now() - options.idleTimeoutMs;
		for (const conn of connections.values()) {
			if (conn.lastSeen >= cutoff) continue;
			logger.debug({ connectionId: conn.id }, 'idle websocket terminated');
			shutDown(conn, 'closed');
			// A silent peer is likely gone: no close handshake to wait for.
			conn.ws.terminate();
		}
	}

	return {
		handleUpgrade,
		attach(server: Server) {
			server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
				// Not ours: leave it to another upgrade listener (Vite HMR); if none, refuse it.
				if (!handleUpgrade(request, socket, head) && server.listenerCount('upgrade') === 1) {
					refuseUpgrade(socket, 400);
				}
			});
		},
		broadcast(topic, event, payload) {
			if (typeof topic !== 'string' || typeof event !== 'string') {
				throw new TypeError('broadcast(topic, event, payload) needs string topic and event');
			}
			if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
				throw new TypeError('broadcast payload must be a plain object');
			}
			publish({ kind: 'broadcast', topic, event, payload, origin: hub.serverId });
		},
		disconnect(socketKey) {
			if (typeof socketKey !== 'string') throw new TypeError('disconnect(socketKey) needs a string key');
			publish({ kind: 'disconnect', socketKey, origin: hub.serverId });
		},
		get connectionCount() {
			return connections.size;
		},
		close() {
			closing ??= closeAll();
			return closing;
		}
	};

	async function closeAll(): Promise<void> {
		clearInterval(sweepTimer);
		unsubscribe();
		const sockets = [...connections.keys()];
		const closed = Promise.all(sockets.map((ws) => new Promise((resolve) => ws.once('close', resolve))));
		for (const conn of connections.values()) kick(conn, 'closed');
		let graceTimer: NodeJS.Timeout | undefined;
		await Promise.race([closed, new Promise((resolve) => (graceTimer = setTimeout(resolve, CLOSE_GRACE_MS)))]);
		clearTimeout(graceTimer);
		for (const ws of connections.keys()) ws.terminate();
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
