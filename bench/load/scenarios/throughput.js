// `npm run load -- throughput`: --rooms (default 50) × --members (default
// 100) joined sockets; the first --senders (default 4) members of each room
// keep --window (default 4) `send_message`s in flight for --duration-ms
// (default 10,000). Reports acked actions and deliveries per second and the
// server's CPU per acked action and per delivery. With --members 1 every
// room holds only its sender: the cost of an acked action alone.
import { connectSockets, generatorUsage, mergeHistograms, sleep } from '../harness.js';

export const defaults = { rooms: 50, members: 100, senders: 4, window: 4, durationMs: 10_000, users: 100, bodyBytes: 60 };

export async function run({ options, server, gen, tokens, report }) {
	const url = `ws://127.0.0.1:${server.port}/socket/websocket?vsn=2.0.0`;
	const total = options.rooms * options.members;
	const senders = options.rooms * Math.min(options.senders, options.members);
	const connected = await connectSockets(gen, { url, tokens, first: 0, count: total, roomPrefix: 'tp', rooms: options.rooms });
	report.step({ step: 'connected', joined: connected.joined, failed: connected.failed, errors: connected.errors });
	await sleep(1000);
	await gen.all({ type: 'deliveries-reset' }, 'deliveries-reset');

	// Socket g is in room g % rooms; the senders are g < rooms × senders. Worker w holds a contiguous block.
	const per = Math.ceil(total / gen.workers.length);
	const before = server.usage();
	const started = Date.now();
	const sent = await Promise.all(
		gen.workers.map((_, w) => {
			const local = [];
			for (let g = w * per; g < Math.min(total, (w + 1) * per) && g < senders; g++) local.push(g - w * per);
			return gen.call(w, { type: 'send', senders: local, window: options.window, durationMs: options.durationMs, drainMs: 10_000, bodyBytes: options.bodyBytes }, 'sent');
		})
	);
	const seconds = (Date.now() - started) / 1000;
	await sleep(500);
	const after = server.usage();
	const deliveries = await gen.all({ type: 'deliveries' }, 'deliveries');
	const delivered = deliveries.reduce((n, d) => n + d.count, 0);
	const acked = sent.reduce((n, s) => n + s.ok, 0);
	const cpuS = after.cpuS - before.cpuS;
	return report.step({
		step: 'summary',
		rooms: options.rooms,
		members: options.members,
		senders,
		window: options.window,
		seconds: +seconds.toFixed(2),
		acked,
		refused: sent.reduce((n, s) => n + s.error, 0),
		unanswered: sent.reduce((n, s) => n + s.unanswered, 0),
		ackedPerS: Math.round(acked / seconds),
		deliveries: delivered,
		deliveriesPerS: Math.round(delivered / seconds),
		ackLatencyMs: mergeHistograms(sent.map((s) => s.histogram)),
		serverCpuS: +cpuS.toFixed(2),
		serverCpuPct: Math.round((cpuS / seconds) * 100),
		serverUserS: +(after.userS - before.userS).toFixed(2),
		serverSystemS: +(after.systemS - before.systemS).toFixed(2),
		cpuPerAckUs: acked ? +((cpuS / acked) * 1e6).toFixed(1) : null,
		cpuPerDeliveryUs: delivered ? +((cpuS / delivered) * 1e6).toFixed(2) : null,
		generator: await generatorUsage(gen)
	});
}
