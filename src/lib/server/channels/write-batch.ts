/**
 * The server's write path for WebSockets, built for fan-out: a frame is
 * framed once (header and payload in one buffer, shared by every recipient
 * of a broadcast: server frames are unmasked, so the bytes are the same for
 * all) and written straight to the TCP socket, one write per socket per
 * event-loop turn however many frames it got in that turn.
 *
 * Why not `ws.send`: per call it allocates a header, writes header and
 * payload as two chunks (a writev), and runs its option handling; a
 * broadcast to 10,000 sockets paid that 10,000 times. Writing under `ws` is
 * safe here because `ws` itself only writes control frames (pong, close) on
 * these sockets: no compression is negotiated (`perMessageDeflate: false`)
 * and no Blob is ever sent, so its sender never holds data of ours in a
 * queue that a direct write could overtake. A close goes out after what is
 * batched (`flushConnection` first).
 */
import type { Socket } from 'node:net';

/** What the batch needs of a connection: its socket, and a slot for frames waiting for the turn's end. */
export interface BatchedConnection {
	/** Frames queued this turn: none, one, or several (written together). */
	pending: Buffer | Buffer[] | null;
	readonly ws: { readonly readyState: number };
}

const OPEN = 1;
/** Frames up to this size in total are joined into one buffer (a copy) rather than written as a writev. */
const CONCAT_MAX_BYTES = 64 * 1024;

/**
 * The socket under a `ws` WebSocket when frames may be written to it
 * directly (no extension negotiated), else null. `ws` keeps it in `_socket`.
 */
export function rawSocketOf(ws: unknown): Socket | null {
	const candidate = ws as { _socket?: Socket | null; _sender?: unknown; extensions?: unknown };
	if (!candidate || typeof candidate._socket?.write !== 'function' || !candidate._sender) return null;
	return candidate.extensions === '' ? candidate._socket : null;
}

/**
 * One unmasked server→client WebSocket frame (FIN set; opcode 1 text, 2
 * binary) holding `payload`, header and payload in one buffer.
 */
export function frameOf(payload: string | Uint8Array, binary = false): Buffer {
	const length = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.byteLength;
	const header = length < 126 ? 2 : length < 65_536 ? 4 : 10;
	const frame = Buffer.allocUnsafe(header + length);
	frame[0] = binary ? 0x82 : 0x81;
	if (length < 126) {
		frame[1] = length;
	} else if (length < 65_536) {
		frame[1] = 126;
		frame.writeUInt16BE(length, 2);
	} else {
		frame[1] = 127;
		frame.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
		frame.writeUInt32BE(length >>> 0, 6);
	}
	if (typeof payload === 'string') frame.write(payload, header, 'utf8');
	else frame.set(payload, header);
	return frame;
}

/** Frames queued per connection during one event-loop turn, written at its end (`setImmediate`). */
export class WriteBatch<C extends BatchedConnection> {
	#dirty: C[] = [];
	#scheduled = false;
	readonly #flush = () => this.flush();

	/** Queue a framed buffer for `conn`; the first one of a turn schedules the flush. */
	queue(conn: C, frame: Buffer): void {
		const pending = conn.pending;
		if (pending === null) {
			conn.pending = frame;
			this.#dirty.push(conn);
			if (!this.#scheduled) {
				this.#scheduled = true;
				setImmediate(this.#flush);
			}
		} else if (Array.isArray(pending)) {
			pending.push(frame);
		} else {
			conn.pending = [pending, frame];
		}
	}

	/** Write everything queued this turn: one write per connection. */
	flush(): void {
		this.#scheduled = false;
		const dirty = this.#dirty;
		this.#dirty = [];
		for (let i = 0; i < dirty.length; i++) this.flushConnection(dirty[i]!);
	}

	/** Write what `conn` has queued now (before a close, which must come after it). */
	flushConnection(conn: C): void {
		const pending = conn.pending;
		if (pending === null) return;
		conn.pending = null;
		if (conn.ws.readyState !== OPEN) return;
		// Checked once per connection by `rawSocketOf` (a queued connection passed it).
		const socket = (conn.ws as { _socket?: Socket | null })._socket;
		if (!socket || socket.destroyed) return;
		if (!Array.isArray(pending)) {
			socket.write(pending);
			return;
		}
		let bytes = 0;
		for (const frame of pending) bytes += frame.length;
		if (bytes <= CONCAT_MAX_BYTES) {
			socket.write(Buffer.concat(pending, bytes));
			return;
		}
		socket.cork();
		for (const frame of pending) socket.write(frame);
		socket.uncork();
	}
}
