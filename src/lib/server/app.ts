/**
 * Composition root of the Outbox server: store, auth, chat domain, HTTP API
 * and the Phoenix Channels server, wired once. Free of SvelteKit imports so
 * the production entry, Vite's dev server and the tests all start it the
 * same way; SvelteKit is only the `fallback` for requests that are not ours.
 *
 * ```ts
 * const outbox = await createOutboxServer(configFromEnv());
 * const server = http.createServer((req, res) => outbox.handle(req, res, next));
 * outbox.attach(server);
 * ```
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { AttemptLimiter } from './auth/attempt-limiter.js';
import { loadSecret } from './auth/secret.js';
import { TokenSigner } from './auth/tokens.js';
import { createChannelServer } from './channels/index.js';
import type { ChannelServer, ChannelServerOptions, PubSub } from './channels/types.js';
import { ChatService } from './chat/chat-service.js';
import { roomChannel, type SocketAssigns } from './chat/room-channel.js';
import { DEFAULT_SOCKET_RATE, type ServerConfig } from './config.js';
import type { RateLimit } from './channels/rate-limit.js';
import { createApi } from './http/api.js';
import { clientAddress, isSecureRequest } from './http/proxy.js';
import { EVENTS } from '../protocol/index.js';
import { DEFAULT_SYNC_EVENTS_RATE_LIMIT, UserRateLimiter } from './http/user-rate-limit.js';
import { createLogger, type Logger } from './logger.js';
import { InFlight } from './ops/in-flight.js';
import { instrumentRoute } from './ops/instrument-route.js';
import { instrumentStore } from './ops/instrument-store.js';
import { createMetrics, type Metrics } from './ops/metrics.js';
import type { ChatStore } from './store/port.js';
import { createSqliteStore } from './store/sqlite-store.js';
import type { UploadStore } from './uploads/port.js';
import { createSqliteUploadStore } from './uploads/sqlite-upload-store.js';
import { UploadService, type UploadServiceOptions } from './uploads/upload-service.js';

export interface OutboxServerOptions {
	/** Use this store instead of the one the config names (tests). */
	store?: ChatStore;
	logger?: Logger;
	/** Clock for token expiry (tests). */
	now?: () => number;
	/** Overrides for the channel server (limits, timeouts) — tests and benchmarks. */
	channels?: Partial<Pick<ChannelServerOptions<SocketAssigns>, 'maxChannelsPerSocket' | 'idleTimeoutMs' | 'maxPayload' | 'rateLimit' | 'pubsub'>>;
	/** Sign-in attempts allowed per minute, per name and per address. */
	signInLimits?: { perName: number; perAddress: number };
	/** Calls per user to `POST /api/sync/events` (default 10/s, bursts of 30; each call holds ≤ 100 actions). */
	syncEventsRateLimit?: RateLimit;
	/** Collect process figures (CPU, memory, event loop) in `/metrics`; default true. Tests that start many servers turn it off. */
	processMetrics?: boolean;
	/** Upload limits and clock (tests); `store` replaces the one the config names. */
	uploads?: Partial<Omit<UploadServiceOptions, 'stagingDir' | 'logger' | 'store'>> & { store?: UploadStore };
}

export interface OutboxServer {
	/**
	 * Handle an API or LongPoll request; calls `next` for anything else. The
	 * promise settles when the request is handled (or rejects with what
	 * `next` threw), so a caller can answer a fault instead of crashing.
	 */
	handle(req: IncomingMessage, res: ServerResponse, next: () => unknown): Promise<void>;
	/** Serve the socket endpoint on this HTTP server's `upgrade` event. */
	attach(server: Server): void;
	readonly channels: ChannelServer;
	readonly store: ChatStore;
	readonly uploads: UploadService;
	readonly tokens: TokenSigner;
	readonly logger: Logger;
	readonly metrics: Metrics;
	/** Channel events and joins running now; `drain()` it to stop new ones (SIGTERM). */
	readonly inFlight: InFlight;
	close(): Promise<void>;
}

/**
 * Channel events per socket: 100 a second, bursts of 300 (`SOCKET_RATE_PER_S`,
 * `SOCKET_RATE_BURST`). A batch is one event, so a kit flushing 10,000 queued
 * actions (100 batches) fits in one burst; a client looping single pushes is
 * slowed down with `rate_limited`.
 */
export const DEFAULT_SOCKET_RATE_LIMIT = DEFAULT_SOCKET_RATE;

export const socketKeyFor = (userId: string) => `user:${userId}`;

export async function createOutboxServer(config: ServerConfig, options: OutboxServerOptions = {}): Promise<OutboxServer> {
	const logger = options.logger ?? createLogger(config.logLevel);
	// Cluster mode: PostgreSQL holds the data and carries broadcasts between processes.
	let pgStore: ChatStore | undefined;
	let pubsub: PubSub | undefined;
	if (config.databaseUrl && !options.store) {
		const pg = { connectionString: config.databaseUrl, schema: config.databaseSchema, logger };
		// Loaded only for a cluster: the embedded database starts without `pg`.
		const [{ createPgStore }, { createPgPubSub }] = await Promise.all([import('./store/pg-store.js'), import('./pubsub/pg-pubsub.js')]);
		pgStore = await createPgStore(pg);
		pubsub = await createPgPubSub(pg).catch(async (error: unknown) => {
			await pgStore!.close();
			throw error;
		});
	}
	let channels: ChannelServer;
	const inFlight = new InFlight();
	const metrics = createMetrics({
		events: Object.values(EVENTS),
		sockets: () => channels?.connectionCount ?? 0,
		channels: () => channels?.channelCount ?? 0,
		processMetrics: options.processMetrics
	});
	const dbFile = join(config.dataDir, 'outbox.db');
	const store = instrumentStore(options.store ?? pgStore ?? createSqliteStore({ file: dbFile }), metrics);
	// Files beside the database they belong to: chunks in PostgreSQL, or DATA_DIR/uploads with SQLite.
	const uploadsDir = join(config.dataDir, 'uploads');
	const { store: uploadStoreOption, ...uploadLimits } = options.uploads ?? {};
	const uploadStore =
		uploadStoreOption ??
		(await (config.databaseUrl
			? import('./uploads/pg-upload-store.js').then(({ createPgUploadStore }) =>
					createPgUploadStore({ connectionString: config.databaseUrl!, schema: config.databaseSchema, logger })
				)
			: createSqliteUploadStore({ file: dbFile, dir: uploadsDir })
		).catch(async (error: unknown) => {
			await pubsub?.close?.();
			await store.close();
			throw error;
		}));
	const uploads = new UploadService({
		sweepIntervalMs: (config.uploadSweepIntervalS ?? 3600) * 1000,
		...uploadLimits,
		store: uploadStore,
		stagingDir: join(uploadsDir, '.staging'),
		logger
	});
	uploads.start();
	const tokens = new TokenSigner({
		secret: loadSecret(config.dataDir, config.secretKey ?? undefined),
		ttlSeconds: config.tokenTtlSeconds,
		now: options.now
	});

	const chat = new ChatService(store, (topic, event, payload, from) => channels.broadcast(topic, event, payload, from));
	const allowed = new Set(config.allowedOrigins);
	/** The server's own origin (the request's host) or an `ALLOWED_ORIGINS` entry: the socket upgrade and cookie-authenticated changes. */
	const originAllowed = (origin: string, request: IncomingMessage) => {
		if (allowed.has(origin)) return true;
		try {
			return new URL(origin).host === request.headers.host;
		} catch {
			return false;
		}
	};

	channels = createChannelServer<SocketAssigns>({
		rateLimit: config.socketRateLimit ?? DEFAULT_SOCKET_RATE_LIMIT,
		pubsub,
		...options.channels,
		logger,
		observer: {
			connectRefused: (why) => metrics.refusal(`connect_${why}`),
			eventRefused(event, why) {
				metrics.event(event, why === 'unknown' ? 'invalid' : 'rate_limited', null);
				if (why !== 'unknown') metrics.rateLimited(why === 'rate_limited' ? 'socket_events' : 'socket_pipeline');
			},
			fannedOut: (recipients) => metrics.fanOut(recipients)
		},
		routes: [instrumentRoute(roomChannel({ chat, now: options.now, logger }), { inFlight, metrics })],
		socketKey: (assigns) => socketKeyFor(assigns.user.id),
		checkOrigin: originAllowed,
		async authenticate({ token }) {
			// A session token or a socket token; the socket then lives as long as the session behind it.
			const claims = tokens.verifyAny(token);
			if (!claims || (await store.isTokenRevoked(claims.tokenId))) return null;
			const user = await store.findUserById(claims.userId);
			if (!user) return null;
			return { user: { id: user.id, name: user.name }, tokenId: claims.tokenId, expiresAt: claims.sessionExpiresAt };
		}
	});

	const limits = options.signInLimits ?? { perName: 10, perAddress: 60 }; // wrong passwords a minute
	const syncEventsRate = options.syncEventsRateLimit ?? DEFAULT_SYNC_EVENTS_RATE_LIMIT;
	// A cluster shares these in PostgreSQL (else each node would grant its own allowance); one process keeps them in memory.
	const sharedLimits = config.databaseUrl
		? await import('./auth/shared-limits.js').then(({ createPgLimits }) =>
				createPgLimits({
					connectionString: config.databaseUrl!,
					schema: config.databaseSchema ?? 'public',
					perName: limits.perName,
					perAddress: limits.perAddress,
					syncEvents: syncEventsRate,
					onError: (err) => logger.error({ err }, 'rate limits: postgres connection failed')
				})
			)
		: null;
	const api = createApi({
		chat,
		uploads,
		tokens,
		channels,
		logger,
		socketKey: socketKeyFor,
		clientAddress: (req) => clientAddress(req, config.trustProxy ?? 0),
		isSecure: (req) => isSecureRequest(req, config.trustProxy ?? 0),
		checkOrigin: originAllowed,
		socketTokenTtlSeconds: config.socketTokenTtlSeconds,
		limiters: sharedLimits ?? {
			byName: new AttemptLimiter({ max: limits.perName, windowMs: 60_000 }),
			byAddress: new AttemptLimiter({ max: limits.perAddress, windowMs: 60_000 }),
			syncEvents: new UserRateLimiter(syncEventsRate)
		}
	});

	return {
		async handle(req, res, next) {
			if (channels.handleLongPoll(req, res)) return;
			if (!(await api.handle(req, res))) await next();
		},
		attach: (server) => channels.attach(server),
		channels,
		store,
		uploads,
		tokens,
		logger,
		metrics,
		inFlight,
		async close() {
			await channels.close();
			await pubsub?.close?.();
			await uploads.close();
			await sharedLimits?.close();
			await store.close();
		}
	};
}

/**
 * An HTTP server with the API and the socket, and `fallback` for every other
 * request (SvelteKit's handler in production; a 404 otherwise). Listening is
 * left to the caller.
 */
export function createHttpServer(
	outbox: OutboxServer,
	fallback: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => {
		res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
	}
): Server {
	const server = createServer((req, res) => {
		outbox.handle(req, res, () => fallback(req, res)).catch((err: unknown) => {
			outbox.logger.error({ err }, 'request failed');
			if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' }).end('server error');
			else res.destroy();
		});
	});
	outbox.attach(server);
	return server;
}
