// `npm run load -- sockets`: joined sockets in steps up to --sockets (default
// 19,000: one server process's open-file ceiling is 20,000), the server's RSS
// per joined socket at each step, then heartbeat round trips with every
// socket beating once in a --heartbeat-window-ms window (default 10 s).
import { connectSockets, generatorUsage, mb, mergeHistograms, sleep } from '../harness.js';

export const defaults = { sockets: 19_000, step: 1_000, users: 100, heartbeatWindowMs: 10_000 };

export async function run({ options, server, gen, tokens, report }) {
	const url = `ws://127.0.0.1:${server.port}/socket/websocket?vsn=2.0.0`;
	const base = server.usage();
	report.step({ step: 'baseline', serverRssMB: mb(base.rssBytes), serverProcesses: base.processes });
	let joined = 0;
	for (let first = 0; first < options.sockets; first += options.step) {
		const count = Math.min(options.step, options.sockets - first);
		const before = server.usage();
		const started = Date.now();
		const result = await connectSockets(gen, { url, tokens, first, count, roomPrefix: 'sock', rooms: 100 });
		joined += result.joined;
		await sleep(200);
		const after = server.usage();
		report.step({
			step: 'sockets',
			joined,
			failed: result.failed,
			errors: result.errors,
			connectS: (Date.now() - started) / 1000,
			serverCpuS: +(after.cpuS - before.cpuS).toFixed(2),
			serverRssMB: mb(after.rssBytes),
			rssPerSocketKB: joined ? Math.round(((after.rssBytes - base.rssBytes) / joined / 1024) * 100) / 100 : null
		});
		if (result.joined < count) break;
	}
	await sleep(2000);
	const settled = server.usage();
	const beats = await gen.all({ type: 'heartbeats', windowMs: options.heartbeatWindowMs, deadlineMs: options.heartbeatWindowMs + 10_000 }, 'heartbeats');
	const after = server.usage();
	const rtt = mergeHistograms(beats.map((b) => b.histogram));
	return report.step({
		step: 'summary',
		joined,
		serverRssMB: mb(settled.rssBytes),
		rssPerSocketKB: Math.round(((settled.rssBytes - base.rssBytes) / joined / 1024) * 100) / 100,
		heartbeatRttMs: rtt,
		heartbeatsUnanswered: beats.reduce((n, b) => n + b.unanswered, 0),
		heartbeatServerCpuS: +(after.cpuS - settled.cpuS).toFixed(2),
		generator: await generatorUsage(gen)
	});
}
