/**
 * The endpoints a deployer's tooling calls:
 *
 * - `GET /healthz`: 200 while the process runs (a liveness probe).
 * - `GET /readyz`: 200 when the store answers, else 503 `{status, reason}`;
 *   also 503 while shutting down, so a balancer stops sending traffic.
 * - `GET /metrics`: Prometheus text. With `METRICS_TOKEN` set, only for
 *   `Authorization: Bearer <token>`; without it, only for loopback callers.
 *   Anyone else gets 404, as if there were nothing here.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ChatStore } from '../store/port.js';
import { sendJson } from '../http/json.js';
import { isLoopback } from '../http/proxy.js';
import type { Metrics } from './metrics.js';

/** A store that has not answered in this long is not ready. */
export const READY_TIMEOUT_MS = 2000;

export interface OpsRoutesOptions {
	store: Pick<ChatStore, 'ping'>;
	metrics: Metrics;
	metricsToken: string | null;
	/** The caller's address (proxy-aware). */
	clientAddress(req: IncomingMessage): string;
	/** True once the server is shutting down. */
	isDraining(): boolean;
}

export function createOpsRoutes(options: OpsRoutesOptions) {
	const token = options.metricsToken === null ? null : Buffer.from(options.metricsToken);

	function metricsAllowed(req: IncomingMessage): boolean {
		if (token === null) return isLoopback(options.clientAddress(req));
		const match = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
		if (!match) return false;
		const offered = Buffer.from(match[1]!);
		return offered.length === token.length && timingSafeEqual(offered, token);
	}

	async function readiness(): Promise<string | null> {
		if (options.isDraining()) return 'shutting down';
		let timer: NodeJS.Timeout | undefined;
		const timeout = new Promise<string>((resolve) => {
			timer = setTimeout(() => resolve(`the store did not answer within ${READY_TIMEOUT_MS} ms`), READY_TIMEOUT_MS);
		});
		try {
			return await Promise.race([
				options.store.ping().then(
					() => null,
					(err: unknown) => `the store does not answer: ${err instanceof Error ? err.message : String(err)}`
				),
				timeout
			]);
		} finally {
			clearTimeout(timer);
		}
	}

	/** Answer one of the three paths; resolves false for any other request. */
	async function handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
		const path = (req.url ?? '/').split('?')[0];
		if (path !== '/healthz' && path !== '/readyz' && path !== '/metrics') return false;
		if (req.method !== 'GET' && req.method !== 'HEAD') {
			sendJson(res, 405, { reason: 'invalid', message: 'use GET' }, { allow: 'GET, HEAD' });
			return true;
		}
		if (path === '/healthz') {
			sendJson(res, 200, { status: 'ok' });
		} else if (path === '/readyz') {
			const reason = await readiness();
			if (reason === null) sendJson(res, 200, { status: 'ready' });
			else sendJson(res, 503, { status: 'unavailable', reason });
		} else if (!metricsAllowed(req)) {
			res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' }).end('not found');
		} else {
			const text = await options.metrics.render();
			res.writeHead(200, { 'content-type': options.metrics.contentType, 'cache-control': 'no-store' }).end(text);
		}
		return true;
	}

	return { handle };
}
