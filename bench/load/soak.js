// `npm run soak -- --sockets 10000 --minutes 10`: the server under steady
// load for a long time, checked for exactly-once delivery and for memory
// that keeps growing.
//
// The real server (bench/load/server.ts, as `npm run load` starts it) with
// --sockets WebSockets from generator processes (bench/load/worker.js and
// soak-worker.js), spread over --rooms rooms. Each socket behaves as a
// phoenix.js client: a heartbeat every 30 s; after a reconnect it rejoins,
// asks for `sync` from its last cursor, and sends again (same client_id)
// what was unacknowledged. Traffic: --rate `send_message`s per second
// overall from random joined sockets; --flap-percent of the sockets per
// interval close abruptly (no close frame) and reconnect 50–1000 ms later;
// half of them hit the socket that just sent, before its reply (a lost ack).
//
// Each --interval-s it prints one JSON line: server RSS and CPU (/proc), the
// server's event-loop delay p50/p99/max over the interval (prom-client's
// nodejs_eventloop_lag_*_seconds from GET /metrics; each scrape starts a
// new window), sockets joined, messages sent/acked/delivered, errors,
// flaps. At the end it stops the traffic, lets every socket rejoin and every
// send be acked, and checks (bench/load/soak-check.js): every message acked
// exactly once at one seq; every room holding exactly the acked messages at
// seqs 1..n; every socket having received every message of its room, none
// twice, live pushes in seq order. Then a summary line and the RSS verdict
// after warm-up (the first third of the intervals): the last third's mean
// against the middle third's, and the slope in MB per minute.
//
// Exit code: 0 when nothing was lost, duplicated or reordered and RSS did
// not rise; 1 otherwise. All randomness comes from --seed (printed).
//
// Options (defaults in brackets):
//   --sockets N [10000]   --minutes N [10]   --interval-s N [30]
//   --rooms N [sockets / 10]   --rate N messages/s overall [sockets / 100]
//   --flap-percent N [1]   --seed N [from the clock]   --users N [100]
//   --store sqlite|pg [sqlite]   --database-url URL [postgres://postgres@127.0.0.1:5432/test with pg]
//   --port N [0: any free port]   --drain-s N [60]   --out FILE [bench/results/soak.jsonl]
//   --server-build FILE (a built server entry instead of building bench/load/server.ts)
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname } from 'node:path';
import { WebSocket } from 'ws';
import { buildServer, createReport, mb, parseOptions, signIn, startGenerators, startServer } from './harness.js';
import { checkAcks, checkRoom, rssTrend } from './soak-check.js';

const MAX_SOCKETS_PER_GENERATOR = 9_500;
/** prom-client's monitorEventLoopDelay sampling interval (its default), taken off the delays it reports. */
const SAMPLING_MS = 10;
const given = parseOptions(process.argv.slice(2), { texts: ['store', 'databaseUrl', 'out', 'serverBuild'] });
const sockets = given.sockets ?? 10_000;
const options = {
	sockets,
	minutes: 10,
	intervalS: 30,
	rooms: Math.max(1, Math.ceil(sockets / 10)),
	rate: Math.max(1, Math.round(sockets / 100)),
	flapPercent: 1,
	seed: Date.now() % 2 ** 31,
	users: 100,
	store: 'sqlite',
	port: 0,
	drainS: 60,
	out: 'bench/results/soak.jsonl',
	...given
};
if (!['sqlite', 'pg'].includes(options.store)) throw new Error(`--store must be sqlite or pg, got ${JSON.stringify(options.store)}`);
if (options.store === 'pg') options.databaseUrl ??= 'postgres://postgres@127.0.0.1:5432/test';
else if (options.databaseUrl) throw new Error('--database-url needs --store pg');
if (!(options.sockets >= 1 && options.minutes > 0 && options.intervalS > 0 && options.rooms >= 1)) throw new Error('--sockets, --rooms must be >= 1; --minutes, --interval-s > 0');
const generators = Math.max(1, Math.ceil(options.sockets / MAX_SOCKETS_PER_GENERATOR));

const report = createReport('soak');
const loadAverage = () => os.loadavg().map((l) => +l.toFixed(2));
const watchdogMs = (options.minutes * 60 + options.drainS + 900) * 1000;
let gen;
let server;
const watchdog = setTimeout(() => {
	console.error(`soak over ${watchdogMs / 1000} s: stopping`);
	for (const { child } of gen?.workers ?? []) child.kill('SIGKILL');
	if (server) process.kill(server.pid, 'SIGKILL');
	process.exit(2);
}, watchdogMs);

const entry = options.serverBuild ?? (await buildServer());
server = await startServer({ entry, databaseUrl: options.databaseUrl, port: options.port });
let failed = true;
try {
	report.step({
		step: 'start',
		seed: options.seed,
		options,
		machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
		loadAverage: loadAverage(),
		serverPid: server.pid,
		generators
	});
	const base = `http://127.0.0.1:${server.port}`;
	const url = `ws://127.0.0.1:${server.port}/socket/websocket?vsn=2.0.0`;
	const tokens = await signIn(base, Math.min(options.users, options.sockets), 'soak');
	const [auditorToken] = await signIn(base, 1, 'soak-auditor');
	gen = await startGenerators(generators);

	// Connect: generator w holds a contiguous block of socket indexes; socket g is in room g % rooms.
	const per = Math.ceil(options.sockets / generators);
	const blocks = gen.workers.map((_, w) => ({ first: w * per, count: Math.max(0, Math.min(per, options.sockets - w * per)) }));
	const connectStarted = Date.now();
	const connected = await Promise.all(
		gen.workers.map((worker, w) =>
			gen.call(
				w,
				{ type: 'soak-connect', url, tokens, firstIndex: blocks[w].first, count: blocks[w].count, rooms: options.rooms, roomPrefix: 'soak', localAddress: worker.address, concurrency: 200, deadlineMs: 600_000, seed: (options.seed + w * 0x9e3779b1) >>> 0 },
				'soak-connected',
				620_000
			)
		)
	);
	const joinedAtStart = connected.reduce((n, c) => n + c.joined, 0);
	report.step({ step: 'connected', joined: joinedAtStart, failed: connected.reduce((n, c) => n + c.failed, 0), connectS: (Date.now() - connectStarted) / 1000, serverRssMB: mb(server.usage().rssBytes), loadAverage: loadAverage() });

	// Traffic: each generator its share of the rate and of the flaps.
	await scrapeMetrics(base); // starts the first interval's event-loop window
	let last = { at: Date.now(), usage: server.usage() };
	const started = last.at;
	await Promise.all(
		gen.workers.map((_, w) => {
			const share = blocks[w].count / options.sockets;
			const flapsPerS = (blocks[w].count * options.flapPercent) / 100 / options.intervalS;
			return gen.call(w, { type: 'soak-start', ratePerS: options.rate * share, flapsPerS, prefix: `soak-${options.seed}-${w}` }, 'soak-started');
		})
	);
	const points = [];
	const intervals = Math.max(1, Math.round((options.minutes * 60) / options.intervalS));
	for (let i = 1; i <= intervals; i++) {
		await sleepUntil(started + i * options.intervalS * 1000);
		const now = { at: Date.now(), usage: server.usage() };
		const line = await intervalLine({ started, last, now, base });
		points.push({ minutes: line.elapsedS / 60, rssMB: line.serverRssMB });
		last = now;
	}

	// Drain: no more sends or flaps; every socket rejoined and synced, every send acked.
	const stopped = await gen.all({ type: 'soak-stop', drainMs: options.drainS * 1000 }, 'soak-stopped', options.drainS * 1000 + 30_000);
	const busy = stopped.reduce((n, s) => n + s.busy, 0);
	await sleepUntil(Date.now() + 2000); // the last pushes reach every socket
	const final = await gen.all({ type: 'soak-stats' }, 'soak-stats');

	// Acks: each sent client_id acked at exactly one seq, and each room's seqs 1..n.
	const records = await gen.all({ type: 'soak-records' }, 'soak-records');
	const acks = checkAcks(
		records.flatMap((r) => r.sent),
		records.flatMap((r) => r.acks)
	);
	// What the server holds, read from the start of every room with messages.
	const ackedByRoom = new Map();
	for (const r of records) for (const [clientId, room, seq] of r.acks) {
		if (!ackedByRoom.has(room)) ackedByRoom.set(room, new Map());
		ackedByRoom.get(room).set(clientId, seq);
	}
	const stored = await readRooms(`${url}&token=${auditorToken}`, [...ackedByRoom.keys()]);
	const roomProblems = [...ackedByRoom].flatMap(([room, acked]) => checkRoom(room, stored.get(room), acked));
	// Every socket against its room's count.
	const roomCounts = Array.from({ length: options.rooms }, (_, r) => acks.rooms.get(r) ?? 0);
	const checks = await gen.all({ type: 'soak-check', rooms: roomCounts }, 'soak-checked');
	const sum = (key) => checks.reduce((n, c) => n + c[key], 0);

	const lost = acks.lost + sum('missing');
	const duplicated = acks.duplicated + sum('duplicated');
	const reordered = sum('reordered');
	const errors = mergeErrors(final.map((s) => s.errors));
	const rss = rssTrend(points);
	const deliveryOk = lost === 0 && duplicated === 0 && reordered === 0 && acks.gaps === 0 && acks.unknown === 0 && sum('extra') === 0 && roomProblems.length === 0 && busy === 0;
	failed = !deliveryOk || rss.verdict === 'rising';
	report.step({
		step: 'summary',
		seed: options.seed,
		minutes: options.minutes,
		sockets: joinedAtStart,
		rooms: options.rooms,
		sent: final.reduce((n, s) => n + s.sent, 0),
		acked: acks.acked,
		resent: final.reduce((n, s) => n + s.resent, 0),
		delivered: final.reduce((n, s) => n + s.delivered, 0),
		syncedMessages: final.reduce((n, s) => n + s.synced, 0),
		flaps: final.reduce((n, s) => n + s.flaps, 0),
		flapsMidSend: final.reduce((n, s) => n + s.flapsMidSend, 0),
		reconnects: final.reduce((n, s) => n + s.reconnects, 0),
		heartbeats: final.reduce((n, s) => n + s.heartbeats, 0),
		heartbeatReplies: final.reduce((n, s) => n + s.heartbeatReplies, 0),
		socketsChecked: sum('sockets'),
		lost,
		duplicated,
		reordered,
		unackedAtEnd: acks.lost,
		missingDeliveries: sum('missing'),
		extraDeliveries: sum('extra'),
		seqGaps: acks.gaps,
		roomProblems: roomProblems.slice(0, 10),
		busyAfterDrain: busy,
		errors,
		samples: [...acks.samples, ...checks.flatMap((c) => c.samples)].slice(0, 20),
		rss,
		verdict: failed ? 'fail' : 'pass',
		loadAverage: loadAverage()
	});
	console.log(`soak ${failed ? 'FAILED' : 'passed'} (seed ${options.seed}): lost ${lost}, duplicated ${duplicated}, reordered ${reordered}, RSS ${rss.verdict}; replay with --seed ${options.seed}`);
} finally {
	if (options.out) {
		mkdirSync(dirname(options.out), { recursive: true });
		writeFileSync(options.out, report.lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
	}
	await gen?.close();
	await server.stop();
	clearTimeout(watchdog);
}
process.exit(failed ? 1 : 0);

async function intervalLine({ started, last, now, base }) {
	const stats = await gen.all({ type: 'soak-stats' }, 'soak-stats');
	const metrics = await scrapeMetrics(base);
	const total = (key) => stats.reduce((n, s) => n + s[key], 0);
	const seconds = (now.at - last.at) / 1000;
	return report.step({
		step: 'interval',
		elapsedS: Math.round((now.at - started) / 1000),
		serverRssMB: mb(now.usage.rssBytes),
		serverCpuPercent: +((100 * (now.usage.cpuS - last.usage.cpuS)) / seconds).toFixed(1),
		...metrics,
		joined: total('joined'),
		sent: total('sent'),
		acked: total('acked'),
		delivered: total('delivered'),
		resent: total('resent'),
		flaps: total('flaps'),
		flapsMidSend: total('flapsMidSend'),
		reconnects: total('reconnects'),
		duplicated: total('duplicated'),
		reordered: total('reordered'),
		errors: Object.values(mergeErrors(stats.map((s) => s.errors))).reduce((n, c) => n + c, 0),
		generatorCpuS: +total('cpuS').toFixed(1),
		generatorRssMB: mb(total('rssBytes')),
		loadAverage: loadAverage()
	});
}

/**
 * The server's event-loop delay since the previous scrape (prom-client
 * resets its histogram on each), in ms. prom-client reads Node's
 * monitorEventLoopDelay, which samples every 10 ms and records the time
 * between samples: a loop that is never late reads 10 ms. That sampling
 * interval is taken off, so 0 means never late.
 */
async function scrapeMetrics(base) {
	const text = await (await fetch(`${base}/metrics`)).text();
	const read = (name) => {
		const match = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'm').exec(text);
		return match ? Number(match[1]) : null;
	};
	const lag = (q) => {
		const seconds = read(`nodejs_eventloop_lag_${q}_seconds`);
		return seconds === null ? null : Math.max(0, +(seconds * 1000 - SAMPLING_MS).toFixed(1));
	};
	const megabytes = (name) => {
		const bytes = read(name);
		return bytes === null ? null : mb(bytes);
	};
	return {
		eventLoopDelayMs: { p50: lag('p50'), p99: lag('p99'), max: lag('max') },
		heapUsedMB: megabytes('nodejs_heap_size_used_bytes'),
		heapTotalMB: megabytes('nodejs_heap_size_total_bytes'),
		externalMB: megabytes('nodejs_external_memory_bytes')
	};
}

function mergeErrors(list) {
	const out = {};
	for (const errors of list) for (const [k, n] of Object.entries(errors)) out[k] = (out[k] ?? 0) + n;
	return out;
}

function sleepUntil(at) {
	return new Promise((r) => setTimeout(r, Math.max(0, at - Date.now())));
}

/** Every message of each room (`room:soak-<r>`), read with `sync` from the start: room -> [[client_id, seq]]. */
async function readRooms(socketUrl, rooms) {
	const ws = new WebSocket(socketUrl, { perMessageDeflate: false });
	await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
	let waiting = null;
	ws.on('message', (data) => waiting?.(JSON.parse(data.toString())));
	const next = (match) =>
		new Promise((resolve, reject) => {
			const timer = setTimeout(() => reject(new Error('auditor: no answer within 30 s')), 30_000);
			waiting = (frame) => {
				if (!match(frame)) return;
				clearTimeout(timer);
				waiting = null;
				resolve(frame);
			};
		});
	const out = new Map();
	let ref = 0;
	try {
		for (const room of rooms) {
			const topic = `room:soak-${room}`;
			const joinRef = String(++ref);
			const joinedFrame = next((f) => f[1] === joinRef);
			ws.send(JSON.stringify([joinRef, joinRef, topic, 'phx_join', {}]));
			if ((await joinedFrame)[4].status !== 'ok') throw new Error(`auditor could not join ${topic}`);
			const messages = [];
			let since = null;
			for (let page = 0; page < 10_000; page++) {
				const complete = next((f) => f[2] === topic && f[3] === 'sync:complete');
				ws.send(JSON.stringify([joinRef, String(++ref), topic, 'sync', { since }]));
				const payload = (await complete)[4];
				messages.push(...payload.messages);
				since = payload.cursor;
				if (payload.complete) break;
			}
			out.set(room, messages.sort((a, b) => a.seq - b.seq).map((m) => [m.client_id, m.seq]));
			const leaveRef = String(++ref);
			const left = next((f) => f[1] === leaveRef);
			ws.send(JSON.stringify([joinRef, leaveRef, topic, 'phx_leave', {}]));
			await left;
		}
	} finally {
		ws.terminate();
	}
	return out;
}
