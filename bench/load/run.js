// `npm run load -- <sockets|broadcast|throughput|floor> [--option value ...]`
//
// The server's own load tools: the real server in its own process (or a
// node:cluster of them with --workers N and --database-url), raw Phoenix V2
// frames over `ws` from separate generator processes on loopback source
// addresses 127.0.0.x with explicit source ports, one JSON line per step on
// stdout, and bench/results/load-<scenario>.json at the end. The server's CPU
// (utime + stime) and RSS come from /proc, so the generator sharing the
// cores does not hide its cost. Every loop is bounded in count and time, and
// the whole run is ended after --max-seconds (default 900).
//
// Options (each scenario file lists its defaults):
//   --sockets N  --users N  --messages N  --interval-ms N  --rooms N  --members N
//   --senders N  --window N  --duration-ms N  --step N  --heartbeat-window-ms N
//   --workers N            server processes (node:cluster); > 1 needs --database-url
//   --database-url URL     PostgreSQL instead of SQLite (e.g. postgres://postgres@127.0.0.1:5432/test)
//   --generators N         generator processes (default: one per 9,500 sockets)
//   --cpu-prof             profile the server (node --cpu-prof) into bench/results/profiles/
//   --server-build FILE    run this built server entry instead of building bench/load/server.ts
//                          (e.g. one built from an older commit, to compare before and after)
//   --max-seconds N
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { buildServer, createReport, parseOptions, signIn, startGenerators, startServer } from './harness.js';

const SCENARIOS = ['sockets', 'broadcast', 'throughput', 'floor'];
const MAX_SOCKETS_PER_GENERATOR = 9_500;

function parseArgs(argv) {
	const [scenario, ...rest] = argv;
	if (!SCENARIOS.includes(scenario)) {
		throw new Error(`usage: npm run load -- <${SCENARIOS.join('|')}> [--option value ...] (got ${JSON.stringify(scenario)})`);
	}
	return { scenario, options: parseOptions(rest, { texts: ['databaseUrl', 'serverBuild'], switches: ['cpuProf'] }) };
}

const { scenario, options: given } = parseArgs(process.argv.slice(2));
const module = await import(`./scenarios/${scenario}.js`);
const options = { workers: 1, maxSeconds: 900, ...module.defaults, ...given };
if (options.workers > 1 && !options.databaseUrl) throw new Error('--workers N > 1 needs --database-url (the workers share PostgreSQL)');
const totalSockets = options.sockets ?? options.rooms * options.members;
const generators = options.generators ?? Math.max(1, Math.ceil(totalSockets / MAX_SOCKETS_PER_GENERATOR));
if (totalSockets / generators > 19_000) throw new Error(`--generators ${generators} would hold over 19,000 sockets each (the open-file limit is 20,000 per process)`);

const report = createReport(scenario);
function machine() {
	const load = os.loadavg().map((l) => l.toFixed(1)).join(' ');
	return `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, load average ${load}`;
}
const watchdog = setTimeout(() => {
	console.error(`load run over --max-seconds ${options.maxSeconds}: stopping`);
	process.exit(2);
}, options.maxSeconds * 1000);

if (module.standalone) {
	report.step({ step: 'start', machine: machine(), options });
	const summary = await module.run({ options, report });
	mkdirSync('bench/results', { recursive: true });
	writeFileSync(`bench/results/load-${scenario}.json`, JSON.stringify({ scenario, options, steps: report.lines, summary }, null, 2) + '\n');
	clearTimeout(watchdog);
	process.exit(0);
}

const entry = options.serverBuild ?? (await buildServer());
const profileDir = 'bench/results/profiles';
if (options.cpuProf) mkdirSync(profileDir, { recursive: true });
const server = await startServer({
	entry,
	workers: options.workers,
	databaseUrl: options.databaseUrl,
	nodeArgs: options.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []
});
let gen;
try {
	report.step({
		step: 'start',
		machine: machine(),
		options,
		serverPid: server.pid,
		store: options.databaseUrl ? 'postgresql' : 'sqlite',
		generators
	});
	const users = Math.min(options.users ?? 100, Math.max(1, totalSockets));
	const tokens = await signIn(`http://127.0.0.1:${server.port}`, users);
	const [senderToken] = await signIn(`http://127.0.0.1:${server.port}`, 1, 'load-sender');
	gen = await startGenerators(generators);
	const summary = await module.run({ options, server, gen, tokens, senderToken, report });
	mkdirSync('bench/results', { recursive: true });
	writeFileSync(`bench/results/load-${scenario}.json`, JSON.stringify({ scenario, options, steps: report.lines, summary }, null, 2) + '\n');
} finally {
	await gen?.close();
	await server.stop();
	clearTimeout(watchdog);
}
