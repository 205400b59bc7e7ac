/**
 * The Phoenix Channels server: takes HTTP upgrades (origin, token,
 * `authenticate`) and LongPoll sessions (longpoll.ts), keeps the registry of
 * connections, fans broadcasts out through the pub/sub port, kicks by socket
 * key, and closes idle sockets with one sweep timer for all of them.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { encodeTextFrame } from '../../protocol/frames.js';
import { endChannel } from './channel.js';
import { Connection, type Hub, type Wire } from './connection.js';
import { dispatchMessage } from './dispatch.js';
import { LONGPOLL_MAX_BODY_BYTES, LONGPOLL_WINDOW_MS, LongPollWire, SESSION_TOKEN_PREFIX, longPollPath, readBody, splitFrames, writeStatus } from './longpoll.js';
import { resolveOptions } from './options.js';
import { isPromiseLike } from './run-event.js';
import { CLOSE_CODES } from './phoenix.js';
import { TopicIndex } from './topic-index.js';
import type { ChannelServer, ChannelServerOptions, PubSubMessage } from './types.js';
import { extractToken, isSameHostOrigin, parseUpgradeTarget, refuseUpgrade, selectSubprotocol, type UpgradeTarget } from './upgrade.js';

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
	const sessions = new Map<string, LongPollWire>();
	const pollPath = longPollPath(options.path);
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
		const recipients = topics.fanOut(message.topic, frame, except);
		observer.fannedOut?.(recipients);
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
	async function admit(
		request: IncomingMessage,
		query: Record<string, string>,
		token: string | null
	): Promise<{ assigns: A; key: string | null } | { refuse: 400 | 403 | 500 | 503 }> {
		if (closing) return refused('closing', 503);
		const { vsn, ...params } = query;
		// Only the V2 serializer is spoken; a missing vsn is taken as V2 for raw clients.
		if (vsn !== undefined && !vsn.startsWith('2.')) return refused('version', 400);
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
			return { assigns, key: options.socketKey(assigns) };
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
			register(ws, admitted.assigns, admitted.key);
			// Shared listeners (they find their connection through `this`): no closures per socket.
			ws.on('message', onMessage);
			ws.on('close', onClose);
			ws.on('error', onSocketError);
		});
	}

	/** `GET`/`POST`/`OPTIONS` on the LongPoll path; false for any other request (not ours). */
	function handleLongPoll(request: IncomingMessage, res: ServerResponse): boolean {
		const target = parseUpgradeTarget(request);
		if (!target || target.pathname !== pollPath) return false;
		serveLongPoll(request, res, target).catch((err: unknown) => {
			logger.error({ err }, 'longpoll request failed');
			writeStatus(res, { status: 500 });
		});
		return true;
	}

	async function serveLongPoll(request: IncomingMessage, res: ServerResponse, target: UpgradeTarget): Promise<void> {
		const origin = request.headers.origin;
		const allowed = origin === undefined || originAllowed(origin, request);
		const cors: Record<string, string> = origin !== undefined && allowed ? { 'access-control-allow-origin': origin, vary: 'origin' } : {};
		if (request.method === 'OPTIONS') {
			res.writeHead(allowed ? 204 : 403, {
				...cors,
				'access-control-allow-methods': 'GET, POST, OPTIONS',
				'access-control-allow-headers': 'content-type, accept, x-requested-with, x-phoenix-authtoken, x-phoenix-longpoll-token',
				'access-control-max-age': '600'
			});
			res.end();
			return;
		}
		if (request.method !== 'GET' && request.method !== 'POST') {
			res.writeHead(405, { allow: 'GET, POST, OPTIONS', 'content-length': 0 }).end();
			return;
		}
		if (!allowed) {
			logger.warn({ origin }, 'longpoll refused: foreign origin');
			return writeStatus(res, { status: 403 });
		}
		const sessionHeader = request.headers['x-phoenix-longpoll-token'];
		const offered = typeof sessionHeader === 'string' ? [...target.tokens, sessionHeader] : target.tokens;
		const wire = offered.map((t) => sessions.get(t)).find((w) => w !== undefined);
		if (wire) {
			const conn = connections.get(wire);
			if (!conn || conn.isClosed) return writeStatus(res, { status: 410 }, cors);
			if (request.method === 'GET') {
				conn.lastSeen = Date.now();
				return wire.poll(res, cors);
			}
			return await receiveFrames(request, res, conn, cors);
		}
		// A session token that names no session (or a POST without one): gone; the client reconnects.
		if (request.method === 'POST' || offered.some((t) => t.startsWith(SESSION_TOKEN_PREFIX))) {
			return writeStatus(res, { status: 410 }, cors);
		}
		const authHeader = request.headers['x-phoenix-authtoken'];
		const admitted = await admit(request, target.params, typeof authHeader === 'string' ? authHeader : (offered[0] ?? null));
		if ('refuse' in admitted) {
			// 403 closes the client for good (1008, retried with backoff); 500 makes it retry.
			return writeStatus(res, { status: admitted.refuse === 403 || admitted.refuse === 400 ? 403 : 500 }, cors);
		}
		const session = new LongPollWire(LONGPOLL_WINDOW_MS, (ended, code, reason) => {
			sessions.delete(ended.token);
			connectionClosed(ended, code, reason);
		});
		sessions.set(session.token, session);
		register(session, admitted.assigns, admitted.key);
		writeStatus(res, { status: 410, token: session.token, messages: [] }, cors);
	}

	async function receiveFrames(request: IncomingMessage, res: ServerResponse, conn: Connection<A>, cors: Record<string, string>) {
		// The client sends at most 100 frames per POST (PROTOCOL.md §4.10); the body is held in memory, so it is capped.
		const body = await readBody(request, Math.min(options.maxPayload * 100, LONGPOLL_MAX_BODY_BYTES));
		if (body === null) return writeStatus(res, { status: 400 }, cors);
		conn.lastSeen = Date.now();
		for (const frame of splitFrames(body)) {
			if (conn.isClosed) break;
			if (frame.data.byteLength > options.maxPayload) {
				logger.debug({ connectionId: conn.id, bytes: frame.data.byteLength }, 'longpoll frame over maxPayload ignored');
				continue;
			}
			options.trace?.({ type: 'in', connectionId: conn.id, data: frame.isBinary ? frame.data : frame.data.toString('utf8') });
			try {
				dispatchMessage(conn, frame.data, frame.isBinary);
			} catch (err) {
				// A bug in here must cost one frame, never the session.
				logger.error({ err, connectionId: conn.id }, 'frame handling threw');
			}
		}
		writeStatus(res, { status: 200 }, cors);
	}

	function originAllowed(origin: string, request: IncomingMessage): boolean {
		try {
			return options.checkOrigin ? options.checkOrigin(origin, request) === true : isSameHostOrigin(origin, request);
		} catch (err) {
			logger.error({ err, origin }, 'checkOrigin threw');
			return false;
		}
	}

	function register(wire: Wire, assigns: A, key: string | null): void {
		const conn = new Connection(hub, (++lastConnectionId).toString(36), wire, assigns, key, Date.now());
		connections.set(wire, conn);
		if (key !== null) {
			let group = byKey.get(key);
			if (!group) byKey.set(key, (group = new Set()));
			group.add(conn);
		}
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
		conn.ws.close(CLOSE_CODES.goingAway, 'disconnect');
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

	return {
		handleUpgrade,
		handleLongPoll,
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
