/**
 * A fault-injecting WebSocket proxy between the kit and the real server. Each
 * client connection gets its own upstream connection to the server's current
 * port (`target()`, which changes when the server is restarted), and every
 * text frame crossing it, in either direction, may be:
 *
 * - dropped (never a server→client message push: TCP cannot lose one frame
 *   of a live WebSocket, and a client has no way to see such a hole; a lost
 *   push, reply, join or heartbeat is recovered by timeouts and retries),
 * - duplicated (sent twice),
 * - delayed (held, and every later frame of that direction queued behind it),
 * - reordered (held and sent after the next frame of that direction).
 *
 * Two targeted faults are armed for one occurrence:
 * - `loseNextAck()`: the next reply to an action push (`send_message` /
 *   `send_batch`) is swallowed and the connection is cut at once: the server
 *   committed, the client never heard (a lost ack);
 * - `onNextBatch(fn)`: `fn` runs as the next action push leaves for the
 *   server (to SIGKILL it mid-batch).
 *
 * Decisions come from a seeded PRNG, so a schedule's faults are drawn the same
 * way on every run (timing may still differ).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer, type RawData } from 'ws';

export interface FrameFaults {
	drop: number;
	dup: number;
	delay: number;
	reorder: number;
	/** Longest delay, ms. */
	maxDelayMs: number;
}

export type FaultCounts = Record<'dropped' | 'duplicated' | 'delayed' | 'reordered' | 'lostAcks' | 'cuts' | 'connections', number>;

export interface FaultProxy {
	readonly port: number;
	readonly counts: FaultCounts;
	/** Frame faults from now on (null: none). */
	setFaults(faults: FrameFaults | null): void;
	/** Arm (or with false, disarm) one lost ack. */
	loseNextAck(armed?: boolean): void;
	/** Whether frame faults are on now. */
	readonly faultsOn: boolean;
	/** Whether a lost ack is armed and not yet spent. */
	readonly ackArmed: boolean;
	onNextBatch(fn: (() => void) | null): void;
	/** Hold every client `phx_join` for `ms` from now on (0: stop). */
	delayJoins(ms: number): void;
	/** Send the next client frame of `event` (`phx_join`, say) twice. */
	duplicateNext(event: string): void;
	/** Cut every open connection now (no close frame: the client sees 1006). */
	cutAll(): number;
	close(): Promise<void>;
}

/** With FAULT_DEBUG set: every frame and what was done to it (to study a failing seed). */
export const debugFrames: string[] = [];
const DEBUG = Boolean(process.env.FAULT_DEBUG);
let connectionIds = 0;

const ACTION_EVENTS = new Set(['send_message', 'send_batch']);
const MESSAGE_PUSHES = new Set(['new_message', 'message_updated', 'changes']);

type Direction = 'up' | 'down';

interface Lane {
	/** When the last queued frame of this lane leaves (delays keep order behind them). */
	releaseAt: number;
	/** A frame held to be sent after the next one. */
	held: string | null;
}

export async function startFaultProxy(options: { target: () => number; random: () => number }): Promise<FaultProxy> {
	const { random } = options;
	let faults: FrameFaults | null = null;
	let ackArmed = false;
	let batchHook: (() => void) | null = null;
	let duplicateEvent: string | null = null;
	let joinDelayMs = 0;
	const counts: FaultCounts = { dropped: 0, duplicated: 0, delayed: 0, reordered: 0, lostAcks: 0, cuts: 0, connections: 0 };
	const pairs = new Set<{ client: WebSocket; upstream: WebSocket }>();

	// The upgrade goes upstream first (with the client's subprotocols: phoenix carries its token there);
	// the client's handshake is finished only once the server accepted, with the protocol it chose,
	// and a refusal (a revoked token: 403) is passed back as it came.
	const wss = new WebSocketServer({ noServer: true, handleProtocols: (_protocols, req) => (req as { chosen?: string }).chosen || false });
	const http = createServer((_req, res) => res.writeHead(404).end());
	http.on('upgrade', (req, socket, head) => {
		socket.on('error', () => socket.destroy());
		const protocols = String(req.headers['sec-websocket-protocol'] ?? '')
			.split(',')
			.map((p) => p.trim())
			.filter(Boolean);
		const upstream = new WebSocket(`ws://127.0.0.1:${options.target()}${req.url ?? '/'}`, protocols);
		upstream.on('unexpected-response', (_r, res) => {
			socket.end(`HTTP/1.1 ${res.statusCode} ${res.statusMessage}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
			upstream.terminate();
		});
		upstream.once('error', () => socket.destroy());
		upstream.once('open', () => {
			upstream.removeAllListeners('error');
			(req as { chosen?: string }).chosen = upstream.protocol;
			wss.handleUpgrade(req, socket, head, (client) => connected(client, upstream));
		});
	});
	await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));

	const connected = (client: WebSocket, upstream: WebSocket) => {
		const cid = ++connectionIds;
		const note = (what: string, dir: Direction, text: string) => DEBUG && debugFrames.push(`${Date.now() % 100000} c${cid} ${dir} ${what} ${text.slice(0, 160)}`);
		counts.connections++;
		const pair = { client, upstream };
		pairs.add(pair);
		/** Refs of action pushes on this connection (to find their replies). */
		const actionRefs = new Set<string>();
		const lanes: Record<Direction, Lane> = { up: { releaseAt: 0, held: null }, down: { releaseAt: 0, held: null } };
		let dead = false;
		const kill = () => {
			if (dead) return;
			dead = true;
			pairs.delete(pair);
			client.terminate();
			upstream.terminate();
		};
		const deliver = (dir: Direction, text: string) => {
			if (dead) return;
			if (dir === 'up') {
				if (upstream.readyState === WebSocket.OPEN) upstream.send(text);
			} else if (client.readyState === WebSocket.OPEN) client.send(text);
		};
		/** Send now or behind a delayed frame, keeping the lane's order. */
		const emit = (dir: Direction, text: string) => {
			const lane = lanes[dir];
			const now = Date.now();
			if (lane.releaseAt > now) setTimeout(() => deliver(dir, text), lane.releaseAt - now);
			else deliver(dir, text);
		};
		const forward = (dir: Direction, data: RawData) => {
			const text = data.toString();
			const frame = parse(text);
			if (dir === 'up' && frame && frame.event === 'phx_join' && joinDelayMs > 0) {
				note('HOLD-JOIN', dir, text);
				setTimeout(() => deliver(dir, text), joinDelayMs);
				return;
			}
			if (dir === 'up' && frame && frame.event === duplicateEvent) {
				duplicateEvent = null;
				counts.duplicated++;
				deliver(dir, text);
				deliver(dir, text);
				return;
			}
			if (dir === 'up' && frame && ACTION_EVENTS.has(frame.event)) {
				if (frame.ref) actionRefs.add(frame.ref);
				if (batchHook) {
					const hook = batchHook;
					batchHook = null;
					deliver(dir, text);
					hook();
					return;
				}
			}
			if (dir === 'down' && frame && frame.event === 'phx_reply' && frame.ref && actionRefs.has(frame.ref)) {
				actionRefs.delete(frame.ref);
				if (ackArmed) {
					ackArmed = false;
					counts.lostAcks++;
					kill();
					return;
				}
			}
			const lane = lanes[dir];
			const f = faults;
			if (f) {
				const roll = random();
				const droppable = !(dir === 'down' && frame && MESSAGE_PUSHES.has(frame.event));
				if (roll < f.drop && droppable) {
					note('DROP', dir, text);
					counts.dropped++;
					return;
				}
				if (roll < f.drop + f.dup) {
					note('DUP', dir, text);
					counts.duplicated++;
					emit(dir, text);
					emit(dir, text);
					return flushHeld(dir);
				}
				if (roll < f.drop + f.dup + f.delay) {
					note('DELAY', dir, text);
					counts.delayed++;
					lane.releaseAt = Math.max(lane.releaseAt, Date.now()) + 1 + Math.floor(random() * f.maxDelayMs);
					emit(dir, text);
					return flushHeld(dir);
				}
				if (roll < f.drop + f.dup + f.delay + f.reorder && lane.held === null) {
					note('HOLD', dir, text);
					counts.reordered++;
					lane.held = text;
					// Never held for long: if no frame follows soon, it goes alone.
					setTimeout(() => flushHeld(dir), 20 + Math.floor(random() * 30));
					return;
				}
			}
			note('pass', dir, text);
			emit(dir, text);
			flushHeld(dir);
		};
		const flushHeld = (dir: Direction) => {
			const held = lanes[dir].held;
			if (held === null) return;
			lanes[dir].held = null;
			emit(dir, held);
		};
		client.on('message', (data) => forward('up', data));
		upstream.on('message', (data) => forward('down', data));
		client.on('close', kill);
		upstream.on('close', kill);
		client.on('error', kill);
		upstream.on('error', kill);
	};

	return {
		port: (http.address() as AddressInfo).port,
		counts,
		setFaults(next) {
			faults = next;
		},
		loseNextAck(armed = true) {
			ackArmed = armed;
		},
		get faultsOn() {
			return faults !== null;
		},
		get ackArmed() {
			return ackArmed;
		},
		onNextBatch(fn) {
			batchHook = fn;
		},
		delayJoins(ms) {
			joinDelayMs = ms;
		},
		duplicateNext(event) {
			duplicateEvent = event;
		},
		cutAll() {
			const n = pairs.size;
			for (const pair of [...pairs]) {
				pairs.delete(pair);
				pair.client.terminate();
				pair.upstream.terminate();
			}
			counts.cuts += n;
			return n;
		},
		close() {
			for (const pair of [...pairs]) {
				pair.client.terminate();
				pair.upstream.terminate();
			}
			pairs.clear();
			wss.close();
			http.closeAllConnections();
			return new Promise((resolve) => http.close(() => resolve()));
		}
	};
}

/** A V2 frame `[join_ref, ref, topic, event, payload]` (or V1 object), or null. */
function parse(text: string): { ref: string | null; event: string } | null {
	try {
		const value: unknown = JSON.parse(text);
		if (Array.isArray(value) && typeof value[3] === 'string') return { ref: typeof value[1] === 'string' ? value[1] : null, event: value[3] };
		if (value && typeof value === 'object' && typeof (value as { event?: unknown }).event === 'string') {
			const ref = (value as { ref?: unknown }).ref;
			return { ref: typeof ref === 'string' ? ref : null, event: (value as { event: string }).event };
		}
	} catch {
		// not JSON: forwarded untouched
	}
	return null;
}
