/**
 * Production entry (`npm start`): one HTTP server on `PORT` serving the
 * API, the Phoenix socket and the SvelteKit app (adapter-node's handler).
 * Built by `scripts/build-server.js` into `build-server/main.js`.
 */
import { configFromEnv } from './config.js';
import { createHttpServer, createOutboxServer } from './app.js';
import { runClustered } from './cluster.js';

type NodeHandler = (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse, next?: () => void) => void;

async function main() {
	const config = configFromEnv();
	const outbox = await createOutboxServer(config);
	const handlerUrl = new URL('../build/handler.js', import.meta.url);
	const { handler } = (await import(handlerUrl.href)) as { handler: NodeHandler };
	// The component gallery and the kit/worker test pages (src/routes/dev) are for tests and
	// development; a production server answers 404 unless OUTBOX_DEV_PAGES=1 (the e2e suite sets it).
	const devPages = process.env.OUTBOX_DEV_PAGES === '1';
	const server = createHttpServer(outbox, (req, res) => {
		if (!devPages && /^\/dev(\/|$|\?)/.test(req.url ?? '')) {
			res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found');
			return;
		}
		handler(req, res);
	});

	server.listen(config.port, config.host, () => {
		const address = server.address();
		const port = typeof address === 'object' && address ? address.port : config.port;
		outbox.logger.info({ port, dataDir: config.dataDir }, `Outbox listening on http://localhost:${port}`);
	});

	let stopping = false;
	const stop = async (signal: string) => {
		if (stopping) return;
		stopping = true;
		outbox.logger.info({ signal }, 'shutting down');
		server.close();
		server.closeAllConnections?.();
		await outbox.close();
		process.exit(0);
	};
	process.on('SIGTERM', () => void stop('SIGTERM'));
	process.on('SIGINT', () => void stop('SIGINT'));
}

// WORKERS=N (with DATABASE_URL): N of these processes share the port (cluster.ts).
runClustered(main).catch((error) => {
	console.error(error instanceof Error ? error.message : error);
	process.exit(1);
});
