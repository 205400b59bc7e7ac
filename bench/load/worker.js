// One load-generator process (forked by bench/load/run.js): holds up to
// ~19,000 WebSockets (the open-file limit is 20,000 per process) speaking raw
// Phoenix V2 frames, from its own loopback source address with explicit
// source ports. Commands arrive over IPC; every loop is bounded in count and
// time. It reads frames with string checks, not JSON.parse, so that its own
// CPU (it shares the cores with the server) stays small.
// The `soak-*` commands of `npm run soak` are handled by soak-worker.js.
import { WebSocket } from 'ws';
import { closeSoak, handleSoak } from './soak-worker.js';

/** Latency histogram: 0.1 ms buckets up to 30 s (the last bucket holds anything slower). */
const BUCKETS = 300_001;
const newHistogram = () => ({ counts: new Uint32Array(BUCKETS), max: 0, n: 0 });
function record(h, ms) {
	const i = Math.min(BUCKETS - 1, Math.max(0, Math.round(ms * 10)));
	h.counts[i]++;
	h.n++;
	if (ms > h.max) h.max = ms;
}
/** Only the non-empty buckets travel over IPC. */
const packHistogram = (h) => {
	const pairs = [];
	for (let i = 0; i < BUCKETS; i++) if (h.counts[i]) pairs.push(i, h.counts[i]);
	return { pairs, max: h.max, n: h.n };
};

const now = () => performance.timeOrigin + performance.now();
const send = (message) => process.send(message);

/** @type {Array<{ws: WebSocket, topic: string, state: 'connecting'|'joining'|'joined'|'closed', sendRef: number, inFlight: Map<string, number>}>} */
const sockets = [];
const errors = {};
const countError = (key) => (errors[key] = (errors[key] ?? 0) + 1);

let deliveries = newHistogram();
/** Broadcast index -> the slowest delivery of it seen here (ms). */
let lastByIndex = new Map();
let deliveryCount = 0;
let heartbeatHistogram = null;
let heartbeatPending = 0;
let acks = { ok: 0, error: 0, histogram: newHistogram() };

function onFrame(socket, text) {
	// A broadcast: [null,null,"room:..","new_message",{"message":{..."body":"L<k>@<t0>"...}}]
	if (text.startsWith('[null,null,')) {
		deliveryCount++;
		const at = text.indexOf('"body":"L');
		if (at === -1) return;
		const end = text.indexOf('"', at + 9);
		const marker = text.slice(at + 9, end);
		const sep = marker.indexOf('@');
		const k = Number(marker.slice(0, sep));
		const latency = now() - Number(marker.slice(sep + 1));
		record(deliveries, latency);
		if (!(lastByIndex.get(k) >= latency)) lastByIndex.set(k, latency);
		return;
	}
	// A heartbeat reply: [null,"h<t0>","phoenix","phx_reply",...]
	if (text.startsWith('[null,"h')) {
		const end = text.indexOf('"', 8);
		if (heartbeatHistogram) record(heartbeatHistogram, now() - Number(text.slice(8, end)));
		heartbeatPending--;
		return;
	}
	if (socket.state === 'joining') {
		const frame = JSON.parse(text);
		if (frame[3] === 'phx_reply' && frame[1] === '1') {
			if (frame[4].status === 'ok') socket.state = 'joined';
			else {
				countError(`join ${frame[4].response?.reason ?? frame[4].status}`);
				socket.state = 'closed';
				socket.ws.close();
			}
		}
		return;
	}
	// A reply to a send: ["1","s<n>","room:..","phx_reply",{"status":"ok",...
	if (text.startsWith('["1","s')) {
		const end = text.indexOf('"', 6);
		const ref = text.slice(6, end);
		const started = socket.inFlight.get(ref);
		if (started === undefined) return;
		socket.inFlight.delete(ref);
		if (text.includes('"status":"ok"', end)) {
			acks.ok++;
			record(acks.histogram, now() - started);
		} else {
			acks.error++;
			countError(`reply ${/"reason":"([a-z_]+)"/.exec(text)?.[1] ?? 'error'}`);
		}
		socket.onAck?.();
	}
}

/** Open `count` sockets, `concurrency` at a time, each joining its topic; resolves when all settled or at the deadline. */
async function connect({ url, tokens, firstIndex, count, roomPrefix, rooms, localAddress, portBase, concurrency, deadlineMs }) {
	if (count <= 0) return { joined: 0, failed: 0 };
	const fresh = sockets.length;
	const deadline = Date.now() + deadlineMs;
	let next = 0;
	let settled = 0;
	let progressAt = Date.now();
	await new Promise((resolve) => {
		const openOne = () => {
			if (next >= count || Date.now() > deadline) return;
			const i = next++;
			const g = firstIndex + i;
			const topic = `room:${roomPrefix}-${g % rooms}`;
			const ws = new WebSocket(`${url}&token=${tokens[g % tokens.length]}`, { localAddress, localPort: portBase + i, perMessageDeflate: false });
			const socket = { ws, topic, index: sockets.length, state: 'connecting', sendRef: 0, inFlight: new Map(), onAck: null };
			sockets.push(socket);
			let done = false;
			const finish = () => {
				if (done) return;
				done = true;
				settled++;
				if (Date.now() - progressAt > 1000) {
					progressAt = Date.now();
					send({ type: 'progress', opened: next, joined: sockets.filter((s) => s.state === 'joined').length });
				}
				if (settled === count) resolve();
				else openOne();
			};
			ws.on('open', () => {
				socket.state = 'joining';
				ws.send(`["1","1",${JSON.stringify(topic)},"phx_join",{}]`);
			});
			ws.on('message', (data) => {
				onFrame(socket, data.toString());
				if (socket.state !== 'joining' && socket.state !== 'connecting') finish();
			});
			ws.on('error', (err) => countError(err.code ?? err.message.slice(0, 60)));
			ws.on('close', () => {
				socket.state = 'closed';
				finish();
			});
		};
		for (let c = 0; c < Math.min(concurrency, count); c++) openOne();
		const timer = setInterval(() => {
			if (Date.now() > deadline) {
				clearInterval(timer);
				countError('connect deadline');
				resolve();
			} else if (settled === count) clearInterval(timer);
		}, 200);
	});
	const made = sockets.slice(fresh);
	return { joined: made.filter((s) => s.state === 'joined').length, failed: made.filter((s) => s.state !== 'joined').length };
}

/** Each joined socket sends one heartbeat at a random moment in the window; resolves with the RTT histogram. */
async function heartbeats({ windowMs, deadlineMs }) {
	heartbeatHistogram = newHistogram();
	const joined = sockets.filter((s) => s.state === 'joined');
	heartbeatPending = joined.length;
	const due = joined.map((s) => ({ s, at: Math.random() * windowMs })).sort((a, b) => a.at - b.at);
	const start = Date.now();
	let i = 0;
	await new Promise((resolve) => {
		const timer = setInterval(() => {
			const elapsed = Date.now() - start;
			while (i < due.length && due[i].at <= elapsed) {
				const { s } = due[i++];
				if (s.ws.readyState === WebSocket.OPEN) s.ws.send(`[null,"h${now()}","phoenix","heartbeat",{}]`);
				else heartbeatPending--;
			}
			if ((i === due.length && heartbeatPending <= 0) || elapsed > deadlineMs) {
				clearInterval(timer);
				resolve();
			}
		}, 2);
	});
	const histogram = heartbeatHistogram;
	heartbeatHistogram = null;
	return { histogram: packHistogram(histogram), unanswered: Math.max(0, heartbeatPending) };
}

/**
 * Sockets `senders` (local indexes) each keep `window` `send_message`s in
 * flight until `durationMs` has passed; then wait (bounded) for the last
 * replies. Deliveries to every socket here are counted meanwhile.
 */
async function sendLoad({ senders, window, durationMs, drainMs, bodyBytes }) {
	acks = { ok: 0, error: 0, histogram: newHistogram() };
	const stopAt = Date.now() + durationMs;
	const pad = 'x'.repeat(Math.max(0, bodyBytes - 20));
	let sent = 0;
	const pushOne = (socket) => {
		if (Date.now() >= stopAt || socket.ws.readyState !== WebSocket.OPEN) return;
		const ref = `s${++socket.sendRef}`;
		socket.inFlight.set(ref, now());
		sent++;
		socket.ws.send(`["1","${ref}",${JSON.stringify(socket.topic)},"send_message",{"client_id":"${process.pid}-${ref}-${socket.index}","body":"T${pad}"}]`);
	};
	const active = senders.map((i) => sockets[i]).filter((s) => s && s.state === 'joined');
	for (const socket of active) {
		socket.onAck = () => pushOne(socket);
		for (let w = 0; w < window; w++) pushOne(socket);
	}
	await new Promise((r) => setTimeout(r, durationMs));
	const drainUntil = Date.now() + drainMs;
	while (Date.now() < drainUntil && active.some((s) => s.inFlight.size > 0)) await new Promise((r) => setTimeout(r, 20));
	for (const socket of active) socket.onAck = null;
	const unanswered = active.reduce((n, s) => n + s.inFlight.size, 0);
	return { sent, ok: acks.ok, error: acks.error, unanswered, histogram: packHistogram(acks.histogram) };
}

/**
 * Keep sockets alive as real clients do (the server closes a socket silent
 * for 60 s): every second, a heartbeat from the next 1/25 of them, so each
 * beats every 25 s. The replies (`[null,"k…`) are ignored.
 */
let keepaliveNext = 0;
const keepalive = setInterval(() => {
	const slice = Math.ceil(sockets.length / 25);
	for (let n = 0; n < slice && sockets.length > 0; n++) {
		const s = sockets[keepaliveNext++ % sockets.length];
		if (s.state === 'joined' && s.ws.readyState === WebSocket.OPEN) s.ws.send('[null,"k","phoenix","heartbeat",{}]');
	}
}, 1000);

process.on('message', async (command) => {
	try {
		if (command.type.startsWith('soak-')) send(await handleSoak(command));
		else if (command.type === 'connect') send({ type: 'connected', ...(await connect(command)), errors });
		else if (command.type === 'heartbeats') send({ type: 'heartbeats', ...(await heartbeats(command)) });
		else if (command.type === 'deliveries-reset') {
			deliveries = newHistogram();
			lastByIndex = new Map();
			deliveryCount = 0;
			send({ type: 'deliveries-reset' });
		} else if (command.type === 'deliveries') {
			send({ type: 'deliveries', count: deliveryCount, histogram: packHistogram(deliveries), lastByIndex: [...lastByIndex] });
		} else if (command.type === 'send') send({ type: 'sent', ...(await sendLoad(command)) });
		else if (command.type === 'usage') send({ type: 'usage', cpuS: (process.cpuUsage().user + process.cpuUsage().system) / 1e6, rssBytes: process.memoryUsage.rss(), errors });
		else if (command.type === 'close') {
			clearInterval(keepalive);
			for (const s of sockets) s.ws.terminate();
			closeSoak();
			send({ type: 'closed' });
			setTimeout(() => process.exit(0), 50);
		}
	} catch (err) {
		send({ type: 'error', message: String(err?.stack ?? err) });
	}
});
// The parent is gone (killed, or its watchdog fired): nothing is left to report to.
process.on('disconnect', () => process.exit(0));
send({ type: 'ready' });
