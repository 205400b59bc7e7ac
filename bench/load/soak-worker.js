// The soak's side of a generator process (bench/load/worker.js hands it the
// `soak-*` commands): sockets that behave as phoenix.js clients do (a
// heartbeat every 30 s, rejoin and `sync` after a reconnect, unacknowledged
// sends sent again with the same client_id), steady `send_message` traffic,
// abrupt flaps, and a SocketLedger per socket (soak-check.js). Every loop is
// bounded; all randomness comes from the seed.
import { WebSocket } from 'ws';
import { SocketLedger, seededRandom } from './soak-check.js';

const HEARTBEAT_MS = 30_000;
const RECONNECT_MS = [50, 1_000];
/** Source ports cycle through [PORT_LOW, PORT_HIGH): below the kernel's ephemeral range, and a port is reused only long after its TIME_WAIT (60 s). */
const PORT_LOW = 10_000;
const PORT_HIGH = 32_000;

let config = null;
let random = Math.random;
/** @type {any[]} */
const sockets = [];
const errors = {};
const countError = (key) => (errors[key] = (errors[key] ?? 0) + 1);
const counters = { sent: 0, resent: 0, acked: 0, delivered: 0, synced: 0, flaps: 0, flapsMidSend: 0, reconnects: 0, heartbeats: 0, heartbeatReplies: 0 };
/** First attempts: [clientId, room]; ok replies: [clientId, room, seq]. */
const sentLog = [];
const ackLog = [];
let nextPort = 0;
let sendSeq = 0;
const timers = [];
let traffic = null;

function takePort() {
	const port = PORT_LOW + (nextPort % (PORT_HIGH - PORT_LOW));
	nextPort++;
	return port;
}

function open(socket) {
	socket.connection++;
	socket.state = 'connecting';
	socket.joinRef = String(socket.connection);
	socket.ref = 0;
	const ws = new WebSocket(`${config.url}&token=${config.tokens[socket.g % config.tokens.length]}`, {
		localAddress: config.localAddress,
		localPort: takePort(),
		perMessageDeflate: false
	});
	socket.ws = ws;
	ws.on('open', () => {
		socket.state = 'joining';
		ws.send(JSON.stringify([socket.joinRef, socket.joinRef, socket.topic, 'phx_join', {}]));
	});
	ws.on('message', (data) => onFrame(socket, ws, data.toString()));
	ws.on('error', (err) => {
		if (!socket.flapping) countError(`socket ${err.code ?? err.message.slice(0, 60)}`);
	});
	ws.on('close', () => {
		if (socket.ws !== ws) return;
		const wasFlap = socket.flapping;
		socket.flapping = false;
		socket.state = 'closed';
		// What was in flight goes out again after the rejoin, with the same client_id.
		for (const pending of socket.pending.values()) if (pending.event === 'send_message') socket.resend.push(pending);
		socket.pending.clear();
		if (!wasFlap) countError('socket closed by the server');
		if (closingAll) return;
		const [low, high] = RECONNECT_MS;
		setTimeout(() => {
			if (closingAll) return;
			counters.reconnects++;
			open(socket);
		}, low + random() * (high - low));
	});
}

function onFrame(socket, ws, text) {
	if (text.startsWith('[null,"hb"')) {
		counters.heartbeatReplies++;
		return;
	}
	const [, ref, , event, payload] = JSON.parse(text);
	if (event === 'new_message') {
		counters.delivered++;
		socket.ledger.live(payload.message.seq);
		return;
	}
	if (event === 'sync:complete') {
		for (const message of payload.messages) socket.ledger.synced(message.seq);
		counters.synced += payload.messages.length;
		socket.cursor = payload.cursor;
		if (!payload.complete) pushTo(socket, 'sync', { since: socket.cursor });
		else joined(socket);
		return;
	}
	if (event !== 'phx_reply') return;
	if (ref === socket.joinRef && socket.state === 'joining') {
		if (payload.status !== 'ok') {
			countError(`join ${payload.response?.reason ?? payload.status}`);
			ws.close();
			return;
		}
		socket.ledger.connected();
		if (socket.connection === 1) joined(socket);
		else {
			// After a reconnect: catch up on what was missed, as the kit does.
			socket.state = 'syncing';
			pushTo(socket, 'sync', { since: socket.cursor });
		}
		return;
	}
	const pending = socket.pending.get(ref);
	if (!pending) return;
	socket.pending.delete(ref);
	if (pending.event !== 'send_message') {
		if (payload.status !== 'ok') countError(`${pending.event} ${payload.response?.reason ?? payload.status}`);
		return;
	}
	if (payload.status !== 'ok') {
		countError(`send ${payload.response?.reason ?? payload.status}`);
		socket.resend.push(pending);
		return;
	}
	const seq = payload.response.message.seq;
	counters.acked++;
	ackLog.push([pending.clientId, socket.room, seq]);
	if (pending.attempt === 1) socket.ledger.own(seq);
	else socket.ledger.synced(seq);
}

function pushTo(socket, event, payload, pending) {
	const ref = `${event === 'send_message' ? 's' : 'e'}${++socket.ref}`;
	socket.pending.set(ref, pending ?? { event });
	socket.ws.send(JSON.stringify([socket.joinRef, ref, socket.topic, event, payload]));
}

function joined(socket) {
	socket.state = 'joined';
	const again = socket.resend.splice(0);
	for (const pending of again) sendMessage(socket, { ...pending, attempt: pending.attempt + 1 });
}

function sendMessage(socket, pending) {
	if (pending.attempt === 1) {
		counters.sent++;
		sentLog.push([pending.clientId, socket.room]);
	} else counters.resent++;
	pushTo(socket, 'send_message', { client_id: pending.clientId, body: `soak ${pending.clientId}` }, { ...pending, event: 'send_message' });
}

let closingAll = false;

/** Open this generator's `count` sockets (global indexes firstIndex…), `concurrency` at a time. */
async function connect(command) {
	config = command;
	random = seededRandom(command.seed);
	timers.push(setInterval(beat, 1000));
	const { firstIndex, count, rooms, roomPrefix, concurrency, deadlineMs } = command;
	for (let i = 0; i < count; i++) {
		const g = firstIndex + i;
		sockets.push({ g, room: g % rooms, topic: `room:${roomPrefix}-${g % rooms}`, ws: null, state: 'new', connection: 0, joinRef: '', ref: 0, cursor: null, pending: new Map(), resend: [], flapping: false, ledger: new SocketLedger() });
	}
	const deadline = Date.now() + deadlineMs;
	let next = 0;
	const inFlight = () => sockets.filter((s) => s.state === 'connecting' || s.state === 'joining').length;
	while ((next < sockets.length || inFlight() > 0) && Date.now() < deadline) {
		let room = concurrency - inFlight();
		while (room-- > 0 && next < sockets.length) open(sockets[next++]);
		await new Promise((r) => setTimeout(r, 20));
	}
	return { joined: sockets.filter((s) => s.state === 'joined').length, failed: sockets.filter((s) => s.state !== 'joined').length };
}

/** Traffic until soak-stop: `ratePerS` sends from random joined sockets, `flapsPerS` abrupt closes, and heartbeats. */
function start({ ratePerS, flapsPerS, prefix }) {
	let lastSender = null;
	let sendCredit = 0;
	let flapCredit = 0;
	const TICK_MS = 100;
	traffic = setInterval(() => {
			sendCredit += (ratePerS * TICK_MS) / 1000;
			for (let tries = 0; sendCredit >= 1 && tries < 1_000; tries++) {
				const socket = sockets[Math.floor(random() * sockets.length)];
				if (socket.state !== 'joined') continue;
				sendCredit--;
				sendMessage(socket, { clientId: `${prefix}-${++sendSeq}`, attempt: 1 });
				lastSender = socket;
			}
			flapCredit += (flapsPerS * TICK_MS) / 1000;
			for (let tries = 0; flapCredit >= 1 && tries < 1_000; tries++) {
				// Half the flaps hit the socket that sent last, its send just written: the
				// server may commit it with no one left to hear the reply (a lost ack), so
				// the resend after the rejoin must get the first answer, not a second message.
				const midSend = lastSender !== null && lastSender.state === 'joined' && lastSender.pending.size > 0 && random() < 0.5;
				const socket = midSend ? lastSender : sockets[Math.floor(random() * sockets.length)];
				if (socket.state !== 'joined') continue;
				flapCredit--;
				counters.flaps++;
				if (socket.pending.size > 0) counters.flapsMidSend++;
				socket.flapping = true;
				socket.ws.terminate();
				lastSender = null;
			}
		}, TICK_MS);
}

/** phoenix.js beats every 30 s: each second, the next 1/30 of the sockets. */
let beatNext = 0;
const beat = () => {
	if (sockets.length === 0) return;
	const slice = Math.ceil(sockets.length / (HEARTBEAT_MS / 1000));
	for (let n = 0; n < slice; n++) {
		const s = sockets[beatNext++ % sockets.length];
		if (s.ws?.readyState === WebSocket.OPEN && s.state !== 'connecting') {
			counters.heartbeats++;
			s.ws.send('[null,"hb","phoenix","heartbeat",{}]');
		}
	}
};

/** Stop sending and flapping; wait (bounded) until every socket is joined and every send acked. */
async function stop({ drainMs }) {
	clearInterval(traffic);
	const until = Date.now() + drainMs;
	const busy = () => sockets.filter((s) => s.state !== 'joined' || s.pending.size > 0 || s.resend.length > 0).length;
	while (busy() > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
	return { busy: busy() };
}

function stats() {
	let duplicated = 0;
	let reordered = 0;
	for (const s of sockets) {
		duplicated += s.ledger.duplicated;
		reordered += s.ledger.reordered;
	}
	const u = process.cpuUsage();
	return { joined: sockets.filter((s) => s.state === 'joined').length, ...counters, duplicated, reordered, errors, cpuS: (u.user + u.system) / 1e6, rssBytes: process.memoryUsage.rss() };
}

/** Each socket against its room's final message count (`rooms[r]`, 0 when absent). */
function check({ rooms }) {
	const out = { sockets: 0, missing: 0, extra: 0, duplicated: 0, reordered: 0, samples: [] };
	for (const s of sockets) {
		const n = rooms[s.room] ?? 0;
		const { missing, missingSample, extra } = s.ledger.check(n);
		out.sockets++;
		out.missing += missing;
		out.extra += extra.length;
		out.duplicated += s.ledger.duplicated;
		out.reordered += s.ledger.reordered;
		if (out.samples.length < 10 && (missing || extra.length)) out.samples.push(`socket ${s.g} (room ${s.room}, ${n} messages): missing ${missingSample.join(',')} extra ${extra.join(',')}`);
		for (const text of s.ledger.samples) if (out.samples.length < 10) out.samples.push(`socket ${s.g}: ${text}`);
	}
	return out;
}

/** The `soak-*` commands; returns the reply message. */
export async function handleSoak(command) {
	switch (command.type) {
		case 'soak-connect':
			return { type: 'soak-connected', ...(await connect(command)), errors };
		case 'soak-start':
			start(command);
			return { type: 'soak-started' };
		case 'soak-stats':
			return { type: 'soak-stats', ...stats() };
		case 'soak-stop':
			return { type: 'soak-stopped', ...(await stop(command)) };
		case 'soak-records':
			return { type: 'soak-records', sent: sentLog, acks: ackLog };
		case 'soak-check':
			return { type: 'soak-checked', ...check(command) };
		default:
			throw new Error(`unknown soak command ${command.type}`);
	}
}

/** Close every soak socket (the generator is exiting). */
export function closeSoak() {
	closingAll = true;
	clearInterval(traffic);
	for (const t of timers.splice(0)) clearInterval(t);
	for (const s of sockets) s.ws?.terminate();
}
