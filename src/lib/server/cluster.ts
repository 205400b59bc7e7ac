/**
 * `WORKERS=N`: N server processes on this machine sharing one port through
 * `node:cluster` (the primary accepts and hands connections to the workers in
 * turn). Each worker is a whole server: its own sockets (under its own open
 * file limit, so N workers hold N times as many), the same PostgreSQL for
 * data and for carrying broadcasts between them, as separate machines would.
 *
 * The primary serves nothing itself. It starts the workers, starts a new one
 * when one dies (after a pause that grows while they keep dying), passes
 * SIGTERM/SIGINT on so each drains as it would alone, and exits when they
 * have. A worker that dies before it ever listened (a port in use, a bad
 * setting) stops the whole cluster: restarting it would fail the same way.
 */
import cluster, { type Worker } from 'node:cluster';
import { configFromEnv } from './config.js';
import { createLogger, type Logger } from './logger.js';

/** Most workers one machine gets; more processes than this only compete for the same cores. */
export const MAX_WORKERS = 64;

/** Restart pauses: the first, and the longest after repeated deaths. */
const RESTART_MIN_MS = 100;
const RESTART_MAX_MS = 30_000;
/** How long workers get to drain on SIGTERM before they are killed. */
const STOP_GRACE_MS = 15_000;

/**
 * `WORKERS` from the environment: 1 when unset. Above 1 it needs
 * `DATABASE_URL` (SQLite is one process's file, and the in-process pub/sub
 * would not carry broadcasts between workers). Throws naming the variable.
 */
export function workersFromEnv(env: NodeJS.ProcessEnv = process.env): number {
	const raw = env.WORKERS;
	if (raw === undefined || raw === '') return 1;
	const workers = Number(raw);
	if (!Number.isInteger(workers) || workers < 1 || workers > MAX_WORKERS) {
		throw new Error(`WORKERS must be an integer from 1 to ${MAX_WORKERS}, got ${JSON.stringify(raw)}`);
	}
	if (workers > 1 && !env.DATABASE_URL) {
		throw new Error(`WORKERS=${workers} needs DATABASE_URL: the workers share PostgreSQL for data and broadcasts (SQLite serves one process)`);
	}
	return workers;
}

export interface ClusterOptions {
	workers?: number;
	logger?: Logger;
}

/**
 * Run `start` here (one worker, or inside a cluster worker), or in the
 * primary of `WORKERS=N` fork the workers that run it. Resolves in the
 * primary once the cluster is up; a worker's own `start` owns its lifetime.
 *
 * @example
 * await runClustered(startServer); // WORKERS=4 DATABASE_URL=postgres://... node main.js
 */
export async function runClustered(start: () => Promise<void>, options: ClusterOptions = {}): Promise<void> {
	const workers = options.workers ?? workersFromEnv();
	if (workers === 1 || cluster.isWorker) return start();
	const logger = options.logger ?? createLogger(configFromEnv().logLevel);
	superviseWorkers(workers, logger);
}

function superviseWorkers(count: number, logger: Logger): void {
	const everListened = new WeakSet<Worker>();
	let stopping = false;
	let exitCode = 0;
	const alive = () => Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && !w.isDead());
	let recentDeaths = 0;
	let lastDeathAt = 0;

	const fork = () => {
		const worker = cluster.fork();
		worker.once('listening', () => everListened.add(worker));
	};

	cluster.on('exit', (worker, code, signal) => {
		if (stopping) {
			if (alive().length === 0) process.exit(exitCode);
			return;
		}
		if (!everListened.has(worker)) {
			logger.error({ pid: worker.process.pid, code, signal }, 'a worker died before it listened; stopping the cluster');
			stopAll(1);
			return;
		}
		const now = Date.now();
		recentDeaths = now - lastDeathAt > 60_000 ? 1 : recentDeaths + 1;
		lastDeathAt = now;
		const delay = Math.min(RESTART_MAX_MS, RESTART_MIN_MS * 2 ** (recentDeaths - 1));
		logger.warn({ pid: worker.process.pid, code, signal, restartInMs: delay }, 'a worker died; starting another');
		setTimeout(() => stopping || fork(), delay);
	});

	const stopAll = (code: number) => {
		if (stopping) return;
		stopping = true;
		exitCode = code;
		const running = alive();
		if (running.length === 0) process.exit(exitCode);
		for (const worker of running) worker.process.kill('SIGTERM');
		setTimeout(() => {
			for (const worker of alive()) worker.process.kill('SIGKILL');
			process.exit(exitCode);
		}, STOP_GRACE_MS).unref();
	};
	process.on('SIGTERM', () => stopAll(0));
	process.on('SIGINT', () => stopAll(0));

	logger.info({ workers: count }, `starting ${count} workers`);
	for (let i = 0; i < count; i++) fork();
}
