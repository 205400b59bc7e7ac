/**
 * Production entry (`npm start`, `npm run serve`): one HTTP server on `PORT`
 * serving the operations endpoints, the API, the Phoenix socket and the
 * SvelteKit app (adapter-node's handler, from the build this file sits in).
 * Built by `scripts/build-server.js` into `build/main.js`.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { configFromEnv } from './config.js';
import { runClustered } from './cluster.js';
import { createLogger } from './logger.js';
import { holdBuildLease } from './ops/build-lease.js';
import { routeConsoleToLogger } from './ops/console-to-log.js';
import { runServer } from './ops/run-server.js';
import { exitOnStartFailure } from './ops/start-failure.js';

type NodeHandler = (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse, next?: () => void) => unknown;

async function main() {
	const config = configFromEnv();
	const logger = createLogger(config.logLevel);
	routeConsoleToLogger(logger);
	const buildDir = dirname(fileURLToPath(import.meta.url));
	holdBuildLease(buildDir);
	// adapter-node takes the client's address and scheme from these headers, which the
	// request pipeline always overwrites with its own verdict (TRUST_PROXY decides).
	Object.assign(process.env, { ADDRESS_HEADER: 'x-forwarded-for', PROTOCOL_HEADER: 'x-forwarded-proto', XFF_DEPTH: '1' });
	const { handler } = (await import(new URL('./handler.js', import.meta.url).href)) as { handler: NodeHandler };
	await runServer(config, { logger, pages: handler, staticDir: join(buildDir, 'client'), processHooks: true });
}

// WORKERS=N (with DATABASE_URL): N of these processes share the port (cluster.ts).
runClustered(main).catch(exitOnStartFailure);
