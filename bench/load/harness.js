// What every load scenario shares: the server under test in its own process
// (or cluster), users signed in over HTTP, generator processes, the server's
// CPU and RSS from /proc, and one JSON line per step on stdout.
import { fork, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { build } from 'vite';
import { treeUsage } from './proc.js';
import { summary } from './stats.js';

const here = fileURLToPath(new URL('.', import.meta.url));
// LOAD_PORT: the server's port (default: any free one); LOAD_SOURCE_PORT_BASE: the generators' first source port.
const SOURCE_PORT_BASE = Number(process.env.LOAD_SOURCE_PORT_BASE ?? 10_000);
const root = join(here, '../..');

/**
 * `--name value` pairs into an object (kebab-case names become camelCase):
 * numbers must be >= 0; `texts` name the options that take text and
 * `switches` the ones that take no value (true when given).
 */
export function parseOptions(args, { texts = [], switches = [] } = {}) {
	const options = {};
	for (let i = 0; i < args.length; i++) {
		const flag = args[i];
		if (!flag.startsWith('--')) throw new Error(`expected --option, got ${JSON.stringify(flag)}`);
		const key = flag.slice(2).replace(/-([a-z])/g, (_, c) => c.toUpperCase());
		if (switches.includes(key)) {
			options[key] = true;
			continue;
		}
		const value = args[++i];
		if (value === undefined) throw new Error(`${flag} needs a value`);
		const isText = texts.includes(key);
		options[key] = isText ? value : Number(value);
		if (!isText && !(Number.isFinite(options[key]) && options[key] >= 0)) throw new Error(`${flag} must be a number >= 0, got ${JSON.stringify(value)}`);
	}
	return options;
}

/** Print one step as a JSON line (and keep it for the results file). */
export function createReport(scenario) {
	const lines = [];
	return {
		lines,
		step(fields) {
			const line = { scenario, at: new Date().toISOString(), ...fields };
			lines.push(line);
			console.log(JSON.stringify(line));
			return line;
		}
	};
}

/** Build bench/load/server.ts (the real server without pages) into bench/.build/load-server.js. */
export async function buildServer() {
	await build({
		configFile: false,
		logLevel: 'warn',
		root,
		build: {
			ssr: 'bench/load/server.ts',
			outDir: 'bench/.build',
			emptyOutDir: false,
			target: 'node20',
			rollupOptions: { output: { entryFileNames: 'load-server.js', format: 'es' } }
		}
	});
	return join(root, 'bench/.build/load-server.js');
}

/**
 * Start the server under test: `workers` processes (node:cluster when > 1,
 * which needs `databaseUrl`), on a free port of 127.0.0.1, with its data in a
 * temp dir (or a fresh PostgreSQL schema). `port` 0 (the default) lets the kernel choose. `nodeArgs` e.g. `--cpu-prof`.
 */
export async function startServer({ entry, workers = 1, databaseUrl, nodeArgs = [], port: listenPort = 0, deadlineMs = 60_000 }) {
	const dataDir = mkdtempSync(join(tmpdir(), 'outbox-load-'));
	const schema = databaseUrl ? `load_${Date.now().toString(36)}` : undefined;
	const env = { ...process.env, PORT: String(listenPort || process.env.LOAD_PORT || 0), HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'warn', NODE_ENV: 'production', WORKERS: String(workers) };
	if (databaseUrl) Object.assign(env, { DATABASE_URL: databaseUrl, DATABASE_SCHEMA: schema });
	else delete env.DATABASE_URL;
	const child = spawn(process.execPath, [...nodeArgs, entry], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
	let output = '';
	const listening = new Set();
	let port = 0;
	child.stderr.on('data', (d) => (output += d));
	await new Promise((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error(`server not listening within ${deadlineMs} ms:\n${output}`)), deadlineMs);
		child.stdout.on('data', (d) => {
			output += d;
			for (const match of output.matchAll(/\{"listening":(\d+),"pid":(\d+)\}/g)) {
				port = Number(match[1]);
				listening.add(match[2]);
			}
			if (listening.size >= workers) {
				clearTimeout(timer);
				resolve();
			}
		});
		child.once('exit', (code) => {
			clearTimeout(timer);
			reject(new Error(`server exited with ${code}:\n${output}`));
		});
	});
	const exited = new Promise((r) => child.once('exit', r));
	return {
		pid: child.pid,
		port,
		schema,
		log: () => output,
		usage: () => treeUsage(child.pid),
		async stop() {
			if (child.exitCode === null) child.kill('SIGTERM');
			const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
			await exited;
			clearTimeout(timer);
			rmSync(dataDir, { recursive: true, force: true });
			if (schema) await dropSchema(databaseUrl, schema);
		}
	};
}

/** Remove the run's PostgreSQL schema (each run makes a fresh one). */
async function dropSchema(databaseUrl, schema) {
	const client = new pg.Client({ connectionString: databaseUrl });
	await client.connect();
	try {
		await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
	} finally {
		await client.end();
	}
}

/** Sign in `count` users (`load-0`…) over HTTP, 8 at a time; their tokens. */
export async function signIn(baseUrl, count, prefix = 'load') {
	const tokens = new Array(count);
	let next = 0;
	const one = async () => {
		while (next < count) {
			const i = next++;
			const res = await fetch(`${baseUrl}/api/session`, {
				method: 'POST',
				headers: { 'content-type': 'application/json' },
				body: JSON.stringify({ name: `${prefix}-${i}`, password: 'load-password' })
			});
			if (res.status !== 200) throw new Error(`sign-in ${prefix}-${i}: HTTP ${res.status} ${await res.text()}`);
			tokens[i] = (await res.json()).token;
		}
	};
	await Promise.all(Array.from({ length: Math.min(8, count) }, one));
	return tokens;
}

/**
 * `count` generator processes; worker `w` connects from 127.0.0.(w+2) with
 * explicit source ports from 10,000 (below the kernel's ephemeral range).
 * `call(w, command, replyType)` sends a command and resolves with its reply.
 */
export async function startGenerators(count) {
	const workers = [];
	for (let w = 0; w < count; w++) {
		const child = fork(join(here, 'worker.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
		const waiting = new Map();
		child.on('message', (message) => {
			if (message.type === 'progress') return;
			if (message.type === 'error') throw new Error(`generator ${w}: ${message.message}`);
			const resolve = waiting.get(message.type);
			waiting.delete(message.type);
			resolve?.(message);
		});
		const ready = new Promise((resolve) => waiting.set('ready', resolve));
		workers.push({ child, waiting, address: `127.0.0.${w + 2}`, opened: 0 });
		await ready;
	}
	const call = (w, command, replyType, timeoutMs = 600_000) =>
		new Promise((resolve, reject) => {
			const timer = setTimeout(() => reject(new Error(`generator ${w}: no ${replyType} within ${timeoutMs} ms`)), timeoutMs);
			workers[w].waiting.set(replyType, (message) => {
				clearTimeout(timer);
				resolve(message);
			});
			workers[w].child.send(command);
		});
	return {
		workers,
		call,
		all: (command, replyType, timeoutMs) => Promise.all(workers.map((_, w) => call(w, command, replyType, timeoutMs))),
		async close() {
			await Promise.all(workers.map((_, w) => call(w, { type: 'close' }, 'closed', 10_000).catch(() => {})));
			for (const { child } of workers) if (child.exitCode === null) child.kill('SIGKILL');
		}
	};
}

/**
 * Connect sockets `first … first + count - 1` (global indexes) spread over
 * the generators in contiguous blocks; socket g joins `room:<prefix>-<g % rooms>`
 * with token `tokens[g % tokens.length]`.
 */
export async function connectSockets(gen, { url, tokens, first, count, roomPrefix, rooms, concurrency = 200, deadlineMs = 300_000 }) {
	const per = Math.ceil(count / gen.workers.length);
	const results = await Promise.all(
		gen.workers.map((worker, w) => {
			const n = Math.max(0, Math.min(per, count - w * per));
			if (n === 0) return { joined: 0, failed: 0, errors: {} };
			const command = {
				type: 'connect',
				url,
				tokens,
				firstIndex: first + w * per,
				count: n,
				roomPrefix,
				rooms,
				localAddress: worker.address,
				portBase: SOURCE_PORT_BASE + worker.opened,
				concurrency,
				deadlineMs
			};
			worker.opened += n;
			return gen.call(w, command, 'connected', deadlineMs + 10_000);
		})
	);
	return {
		joined: results.reduce((n, r) => n + r.joined, 0),
		failed: results.reduce((n, r) => n + r.failed, 0),
		errors: Object.assign({}, ...results.map((r) => r.errors))
	};
}

/** Merge packed histograms (0.1 ms buckets) into {n, p50, p99, max} in ms. */
export function mergeHistograms(packed) {
	const counts = new Map();
	let max = 0;
	let n = 0;
	for (const h of packed) {
		for (let i = 0; i < h.pairs.length; i += 2) counts.set(h.pairs[i], (counts.get(h.pairs[i]) ?? 0) + h.pairs[i + 1]);
		max = Math.max(max, h.max);
		n += h.n;
	}
	const buckets = [...counts.keys()].sort((a, b) => a - b);
	const at = (q) => {
		if (n === 0) return null;
		const rank = Math.max(1, Math.ceil(q * n));
		let seen = 0;
		for (const b of buckets) {
			seen += counts.get(b);
			if (seen >= rank) return b / 10;
		}
		return buckets.at(-1) / 10;
	};
	return { n, p50: at(0.5), p99: at(0.99), max: Math.round(max * 10) / 10 };
}

/** The generators' own CPU and RSS, to show what the server shared the cores with. */
export async function generatorUsage(gen) {
	const usages = await gen.all({ type: 'usage' }, 'usage');
	return { cpuS: +usages.reduce((s, u) => s + u.cpuS, 0).toFixed(2), rssMB: Math.round(usages.reduce((s, u) => s + u.rssBytes, 0) / 2 ** 20) };
}

export { summary };
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const mb = (bytes) => Math.round((bytes / 2 ** 20) * 10) / 10;
