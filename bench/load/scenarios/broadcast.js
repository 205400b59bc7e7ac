// `npm run load -- broadcast`: --sockets (default 10,000) joined in one room,
// and one more socket that sends --messages (default 20) `send_message`s,
// --interval-ms apart (default 1,000). Every other socket gets each as a
// broadcast. Reports when the last socket got each message, the delivery
// latency over all deliveries, and the server's CPU per delivery.
import { WebSocket } from 'ws';
import { connectSockets, generatorUsage, mergeHistograms, sleep } from '../harness.js';

export const defaults = { sockets: 10_000, users: 100, messages: 20, intervalMs: 1000, drainMs: 5000 };

export async function run({ options, server, gen, tokens, senderToken, report }) {
	const url = `ws://127.0.0.1:${server.port}/socket/websocket?vsn=2.0.0`;
	const connected = await connectSockets(gen, { url, tokens, first: 0, count: options.sockets, roomPrefix: 'bcast', rooms: 1 });
	report.step({ step: 'connected', joined: connected.joined, failed: connected.failed, errors: connected.errors });

	const sender = await openSender(`${url}&token=${senderToken}`, 'room:bcast-0');
	await sleep(1000);
	await gen.all({ type: 'deliveries-reset' }, 'deliveries-reset');
	const idleBefore = server.usage();
	await sleep(2000);
	const before = server.usage();
	const idleCpuPerS = (before.cpuS - idleBefore.cpuS) / 2;
	const started = Date.now();
	for (let k = 0; k < options.messages; k++) {
		const reply = await sender.send(`L${k}@${performance.timeOrigin + performance.now()}`);
		if (reply.status !== 'ok') throw new Error(`send ${k}: ${JSON.stringify(reply)}`);
		await sleep(options.intervalMs);
	}
	const expected = options.messages * connected.joined;
	let got = { count: 0 };
	for (const deadline = Date.now() + options.drainMs; Date.now() < deadline; await sleep(100)) {
		const all = await gen.all({ type: 'deliveries' }, 'deliveries');
		got = { count: all.reduce((n, d) => n + d.count, 0), all };
		if (got.count >= expected) break;
	}
	const after = server.usage();
	const seconds = (Date.now() - started) / 1000;
	sender.close();
	const lastByIndex = new Map();
	for (const d of got.all) for (const [k, ms] of d.lastByIndex) lastByIndex.set(k, Math.max(lastByIndex.get(k) ?? 0, ms));
	for (const [k, ms] of [...lastByIndex].sort((a, b) => a[0] - b[0])) report.step({ step: 'message', k, lastDeliveryMs: Math.round(ms * 10) / 10 });
	const cpuS = after.cpuS - before.cpuS;
	return report.step({
		step: 'summary',
		sockets: connected.joined,
		messages: options.messages,
		deliveries: got.count,
		expected,
		latencyMs: mergeHistograms(got.all.map((d) => d.histogram)),
		lastDeliveryMs: summarize([...lastByIndex.values()]),
		serverCpuS: +cpuS.toFixed(2),
		serverIdleCpuPerS: +idleCpuPerS.toFixed(3),
		cpuPerDeliveryUs: got.count ? +((cpuS / got.count) * 1e6).toFixed(2) : null,
		userPerDeliveryUs: got.count ? +(((after.userS - before.userS) / got.count) * 1e6).toFixed(2) : null,
		systemPerDeliveryUs: got.count ? +(((after.systemS - before.systemS) / got.count) * 1e6).toFixed(2) : null,
		cpuPerDeliveryNetOfIdleUs: got.count ? +(((cpuS - idleCpuPerS * seconds) / got.count) * 1e6).toFixed(2) : null,
		generator: await generatorUsage(gen)
	});
}

function summarize(values) {
	const sorted = [...values].sort((a, b) => a - b);
	const at = (q) => (sorted.length ? Math.round(sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] * 10) / 10 : null);
	return { n: sorted.length, p50: at(0.5), p99: at(0.99), max: at(1) };
}

/** The sending socket, in this process: joins, then `send(body)` resolves with each reply. */
async function openSender(url, topic) {
	const ws = new WebSocket(url, { perMessageDeflate: false });
	const waiting = new Map();
	let ref = 1;
	ws.on('message', (data) => {
		const frame = JSON.parse(data.toString());
		if (frame[3] !== 'phx_reply') return;
		waiting.get(frame[1])?.(frame[4]);
		waiting.delete(frame[1]);
	});
	await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
	const request = (event, payload) =>
		new Promise((resolve, reject) => {
			const r = String(++ref);
			const timer = setTimeout(() => reject(new Error(`${event}: no reply in 30 s`)), 30_000);
			waiting.set(r, (reply) => (clearTimeout(timer), resolve(reply)));
			ws.send(JSON.stringify(['1', r, topic, event, payload]));
		});
	ws.send(JSON.stringify(['1', '1', topic, 'phx_join', {}]));
	await new Promise((resolve) => waiting.set('1', resolve));
	let n = 0;
	return { send: (body) => request('send_message', { client_id: `sender-${Date.now()}-${n++}`, body }), close: () => ws.close() };
}
