// `npm start`: build only when the build is missing or older than the
// sources (scripts/build.js, under its lock, into a fresh folder), then run
// the server from the build in this same process. Every line it prints is
// JSON: the build's own output is wrapped into log lines.
//
// Cluster workers (node:cluster re-runs this file) start the exact build
// their primary chose, never building themselves.
import { spawn } from 'node:child_process';
import cluster from 'node:cluster';
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { CURRENT, ROOT, isUpToDate } from './build-state.js';

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
// A bad LOG_LEVEL is reported by the server itself, naming the variable.
const logger = pino({ level: LEVELS.includes(process.env.LOG_LEVEL) ? process.env.LOG_LEVEL : 'info' }).child({ source: 'start' });
// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g;

async function main() {
	let entry = cluster.isWorker ? process.env.OUTBOX_BUILD_MAIN : undefined;
	if (!entry) {
		if (!isUpToDate()) await buildNow();
		else logger.debug({}, 'build is up to date');
		entry = realpathSync(join(CURRENT, 'main.js'));
		process.env.OUTBOX_BUILD_MAIN = entry;
	}
	await import(pathToFileURL(entry).href);
}

/** Run scripts/build.js --if-stale, its output as `info` lines (`warn` for stderr). */
function buildNow() {
	logger.info({}, 'the build is missing or older than the sources: building');
	const child = spawn(process.execPath, [join(ROOT, 'scripts/build.js'), '--if-stale'], {
		cwd: ROOT,
		env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' },
		stdio: ['ignore', 'pipe', 'pipe']
	});
	for (const [stream, level] of [[child.stdout, 'info'], [child.stderr, 'warn']]) {
		createInterface({ input: stream }).on('line', (line) => {
			const text = line.replace(ANSI, '').trimEnd();
			if (text.trim()) logger[level]({ source: 'build' }, text);
		});
	}
	return new Promise((resolve, reject) => {
		child.on('error', reject);
		child.on('close', (code, signal) => (code === 0 ? resolve() : reject(new Error(`the build failed (exit ${code ?? signal}); see the lines above`))));
	});
}

main().catch((error) => {
	logger.fatal({}, `cannot start: ${error.message}`);
	process.exit(1);
});
