/**
 * The server the load tools start: the real Outbox server as `npm start`
 * runs it (runServer: the operations endpoints with `/metrics`, the API, the
 * socket, the request guard and the draining stop on SIGTERM), without the
 * SvelteKit pages, which a load run never asks for; configured through the
 * environment as `npm start` is, `WORKERS=N` included. Its limits are
 * raised so a run measures cost, not refusals: the socket rate limit comes
 * from LOAD_RATE_PER_S / LOAD_RATE_BURST (default: a million), and wrong
 * passwords are never slowed. Each process prints `{"listening":port,"pid":pid}`.
 */
import { runClustered } from '../../src/lib/server/cluster.js';
import { configFromEnv } from '../../src/lib/server/config.js';
import { runServer } from '../../src/lib/server/ops/run-server.js';

const positive = (name: string, fallback: number) => {
	const value = Number(process.env[name] ?? fallback);
	if (!(value > 0)) throw new Error(`${name} must be a positive number, got ${JSON.stringify(process.env[name])}`);
	return value;
};

await runClustered(async () => {
	const config = configFromEnv();
	const server = await runServer(config, {
		processHooks: true,
		channels: { rateLimit: { perSecond: positive('LOAD_RATE_PER_S', 1e6), burst: positive('LOAD_RATE_BURST', 1e6) } },
		signInLimits: { perName: 1e9, perAddress: 1e9 },
		syncEventsRateLimit: { perSecond: 1e6, burst: 1e6 }
	});
	console.log(JSON.stringify({ listening: server.port, pid: process.pid }));
});
