/**
 * A bare `ws` client that speaks frames by hand, for the traps of
 * PROTOCOL.md §8 the official client never produces (stale refs, duplicate
 * joins, malformed frames, raw binary).
 */
import { WebSocket, type ClientOptions } from 'ws';
import { delay, waitFor } from './wait.js';

export interface RawClient {
	ws: WebSocket;
	/** Everything received: JSON frames parsed, binary frames as bytes. */
	received: Array<unknown[] | Uint8Array>;
	send(frame: unknown[]): void;
	sendRaw(data: string | Uint8Array, binary?: boolean): void;
	/** The first received JSON frame (at or after `from`) that matches. */
	next(match: (frame: unknown[]) => boolean, what: string, from?: number): Promise<unknown[]>;
	/** The first received binary frame. */
	nextBinary(what: string): Promise<Uint8Array>;
	/** Join `topic` with `ref` as both refs; resolves with the reply frame. */
	join(topic: string, ref: string, payload?: Record<string, unknown>): Promise<unknown[]>;
	/** Asserts (by returning them) which JSON frames matching arrived within `ms`. */
	collectFor(ms: number, match: (frame: unknown[]) => boolean): Promise<unknown[][]>;
	closed: Promise<{ code: number; reason: string }>;
	close(): void;
}

/** Open a raw client; rejects with the HTTP status when the upgrade is refused. */
export function openRaw(url: string, options: ClientOptions & { protocols?: string[] } = {}): Promise<RawClient> {
	const { protocols, ...clientOptions } = options;
	const ws = new WebSocket(url, protocols ?? [], clientOptions);
	const received: RawClient['received'] = [];
	ws.on('message', (data: Buffer, isBinary: boolean) => {
		received.push(isBinary ? new Uint8Array(data) : (JSON.parse(data.toString('utf8')) as unknown[]));
	});
	// Errors surface through 'close' and the open promise; an unheard 'error' would crash the run.
	ws.on('error', () => {});
	const closed = new Promise<{ code: number; reason: string }>((resolve) =>
		ws.on('close', (code, reason) => resolve({ code, reason: reason.toString('utf8') }))
	);
	const jsonFrames = (from: number) => received.slice(from).filter((f): f is unknown[] => Array.isArray(f));
	const client: RawClient = {
		ws,
		received,
		closed,
		send: (frame) => ws.send(JSON.stringify(frame)),
		sendRaw: (data, binary = typeof data !== 'string') => ws.send(data, { binary }),
		next: (match, what, from = 0) => waitFor(() => jsonFrames(from).find(match), what),
		nextBinary: (what) => waitFor(() => received.find((f): f is Uint8Array => f instanceof Uint8Array), what),
		async join(topic, ref, payload = {}) {
			const from = received.length;
			client.send([ref, ref, topic, 'phx_join', payload]);
			return client.next((f) => f[1] === ref && f[2] === topic && f[3] === 'phx_reply', `join reply ${topic}`, from);
		},
		async collectFor(ms, match) {
			const from = received.length;
			await delay(ms);
			return jsonFrames(from).filter(match);
		},
		close: () => ws.close()
	};
	return new Promise((resolve, reject) => {
		ws.once('open', () => resolve(client));
		ws.once('unexpected-response', (_req, res) => {
			reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { status: res.statusCode }));
			ws.terminate();
		});
		ws.once('error', reject);
	});
}
