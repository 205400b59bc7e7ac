/**
 * The whole server on one port, as `npm start` runs it: the operations
 * endpoints, the API and LongPoll, the built client's static files, then
 * SvelteKit's pages, each request behind the same guard (security headers,
 * access log, a 500 instead of a crash), the socket on `upgrade`, and a
 * draining stop. Free of SvelteKit imports: the production entry passes its
 * handler in, the tests run it without pages.
 *
 * ```ts
 * const server = await runServer(configFromEnv(), { pages: handler, staticDir: 'build/client', processHooks: true });
 * await server.stop('SIGTERM'); // stop accepting, finish in-flight work, 1001 to every socket
 * ```
 */
import { accessSync, constants, mkdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { createOutboxServer, type OutboxServer, type OutboxServerOptions } from '../app.js';
import { refuseUpgrade } from '../channels/upgrade.js';
import { ConfigError, DEFAULT_DRAIN_TIMEOUT_S, type ServerConfig } from '../config.js';
import { sendError } from '../http/json.js';
import { clientAddress, isSecureRequest } from '../http/proxy.js';
import { setSecurityHeaders } from '../http/security-headers.js';
import { createStaticFiles, type StaticFiles } from '../http/static-files.js';
import { createLogger } from '../logger.js';
import { logAccess } from './access-log.js';
import { HttpDrain } from './http-drain.js';
import { listen } from './listen.js';
import { createOpsRoutes } from './ops-routes.js';
import { installFaultHandlers } from './process-faults.js';

type NodeHandler = (req: IncomingMessage, res: ServerResponse, next?: () => void) => unknown;

export interface RunServerOptions extends OutboxServerOptions {
	/** SvelteKit's handler (adapter-node's `handler`), for what nothing else answered. */
	pages?: NodeHandler;
	/** The built client's files (`build/client`), served before the pages. */
	staticDir?: string;
	/** Production: SIGTERM/SIGINT drain then exit, and the last-resort fault handlers. Default false. */
	processHooks?: boolean;
}

export interface RunningServer {
	readonly port: number;
	readonly url: string;
	readonly outbox: OutboxServer;
	readonly http: Server;
	/**
	 * Drain and close: stop accepting, finish in-flight requests and channel
	 * events (up to the drain timeout), close sockets with 1001, close the
	 * store. `clean` is false when the timeout cut work off.
	 */
	stop(reason?: string): Promise<{ clean: boolean }>;
}

const DEV_PAGES = /^\/dev(\/|$|\?)/;

export async function runServer(config: ServerConfig, options: RunServerOptions = {}): Promise<RunningServer> {
	const logger = options.logger ?? createLogger(config.logLevel);
	if (!config.databaseUrl || !config.secretKey) checkDataDir(config.dataDir);
	const outbox = await createOutboxServer(config, { ...options, logger });
	const hops = config.trustProxy ?? 0;
	const statics: StaticFiles | null = options.staticDir ? createStaticFiles(options.staticDir, { logger }) : null;
	const { metrics } = outbox;
	let drain: HttpDrain;
	const ops = createOpsRoutes({
		store: outbox.store,
		metrics,
		metricsToken: config.metricsToken ?? null,
		clientAddress: (req) => clientAddress(req, hops),
		isDraining: () => drain.draining
	});

	async function route(req: IncomingMessage, res: ServerResponse, secure: boolean, address: string): Promise<void> {
		if (await ops.handle(req, res)) return;
		await outbox.handle(req, res, async () => {
			if (statics && (await statics.handle(req, res))) return;
			if (!options.pages || (!config.devPages && DEV_PAGES.test(req.url ?? ''))) {
				res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found');
				return;
			}
			// adapter-node reads the client's address and scheme from these (main.ts points it at
			// them): always our own verdict, so a client cannot claim either.
			req.headers['x-forwarded-for'] = address;
			req.headers['x-forwarded-proto'] = secure ? 'https' : 'http';
			// A page's policy is SvelteKit's (kit.csp, with its script hashes). On a 304 it sends
			// none, and a default here would replace the cached page's policy in the browser.
			res.removeHeader('content-security-policy');
			await options.pages(req, res, () => {
				if (!res.headersSent) res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found');
			});
		});
	}

	function onRequest(req: IncomingMessage, res: ServerResponse): void {
		const startedAt = performance.now();
		drain.track(req, res);
		const address = clientAddress(req, hops);
		const secure = isSecureRequest(req, hops);
		setSecurityHeaders(res, secure);
		logAccess(logger, req, res, startedAt, address);
		res.once('close', () => countAnswer(req, res));
		// Writing to a peer that is gone: that answer is lost, nothing more.
		res.on('error', (err) => logger.debug({ err }, 'response stream error'));
		let pending: Promise<void>;
		try {
			pending = route(req, res, secure, address);
		} catch (err) {
			pending = Promise.reject(err);
		}
		pending.catch((err: unknown) => {
			logger.error({ err, method: req.method, path: (req.url ?? '/').split('?')[0] }, 'request failed');
			if (!res.headersSent) sendError(res, 500, 'internal', 'server error');
			else res.destroy();
		});
	}

	function countAnswer(req: IncomingMessage, res: ServerResponse): void {
		const status = res.statusCode;
		metrics.httpResponse(status);
		if (status === 429) {
			const path = (req.url ?? '/').split('?')[0];
			metrics.rateLimited(path === '/api/session' ? 'sign_in' : path === '/api/sync/events' ? 'sync_events' : 'http');
		} else if (status === 401) metrics.refusal('http_unauthorized');
		else if (status === 403) metrics.refusal('http_forbidden');
	}

	function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
		logger.info({ method: req.method, path: (req.url ?? '/').split('?')[0], ip: clientAddress(req, hops), upgrade: true }, 'http upgrade');
		if (drain.draining) {
			socket.on('error', () => {});
			refuseUpgrade(socket, 503);
			return;
		}
		if (!outbox.channels.handleUpgrade(req, socket, head)) {
			socket.on('error', () => {});
			refuseUpgrade(socket, 400);
		}
	}

	const http = createServer(onRequest);
	drain = new HttpDrain(http);
	http.on('upgrade', onUpgrade);
	http.on('error', (err) => logger.error({ err }, 'http server error'));

	let port: number;
	try {
		port = await listen(http, config.port, config.host);
	} catch (err) {
		await outbox.close();
		throw err;
	}

	let stopping: Promise<{ clean: boolean }> | null = null;
	const drainTimeoutMs = config.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_S * 1000;
	function stop(reason = 'stop'): Promise<{ clean: boolean }> {
		stopping ??= (async () => {
			const deadline = Date.now() + drainTimeoutMs;
			logger.info({ reason, httpInFlight: drain.inFlight, eventsInFlight: outbox.inFlight.count }, 'draining');
			await drain.stopAccepting();
			outbox.inFlight.drain();
			const eventsDone = await outbox.inFlight.idle(deadline);
			await outbox.channels.close();
			const httpDone = await drain.settle(deadline);
			drain.closeConnections();
			await outbox.close();
			const clean = eventsDone && httpDone;
			if (clean) logger.info({ reason }, 'stopped: every request and event answered');
			else logger.warn({ reason, httpInFlight: drain.inFlight, eventsInFlight: outbox.inFlight.count }, `stopped after ${drainTimeoutMs} ms with work cut off`);
			return { clean };
		})();
		return stopping;
	}

	if (options.processHooks) {
		installFaultHandlers(logger, () => void stop('fatal error').finally(() => process.exit(1)));
		const onSignal = (signal: NodeJS.Signals) => {
			if (stopping) {
				logger.warn({ signal }, 'second signal while draining: exiting now');
				process.exit(1);
			}
			// Whatever hangs past the drain (a database that never answers) must not keep the process.
			setTimeout(() => process.exit(0), drainTimeoutMs + 5000).unref();
			void stop(signal).then(() => process.exit(0));
		};
		process.on('SIGTERM', onSignal);
		process.on('SIGINT', onSignal);
	}

	logger.info({ port, host: config.host, dataDir: config.dataDir, cluster: config.databaseUrl !== null }, `Outbox listening on http://localhost:${port}`);
	return { port, url: `http://127.0.0.1:${port}`, outbox, http, stop };
}

/** The data dir must exist (it is created) and be writable, or the start stops naming DATA_DIR. */
function checkDataDir(dir: string): void {
	try {
		mkdirSync(dir, { recursive: true });
		accessSync(dir, constants.W_OK);
	} catch (err) {
		const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
		throw new ConfigError([{ variable: 'DATA_DIR', message: `DATA_DIR ${dir} cannot be used (${reason}): point it at a writable directory` }]);
	}
}
