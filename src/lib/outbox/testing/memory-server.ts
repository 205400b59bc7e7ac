/**
 * The server half of the in-memory transport pair: a test scripts how it
 * answers joins and pushes, and pushes messages to the client. It keeps a
 * log of every push it acted on, duplicates included, so a test can check
 * exactly-once at the server.
 */
import type { MemoryNetwork } from './memory-network.js';

/** A reply the server sends: ok with a response, or an error (`{reason, message?}` or any other error payload). */
export type ServerReply =
	| { status: 'ok'; response: unknown }
	| { status: 'error'; response: unknown };

/** `{status: 'ok', response}`. */
export const ok = (response: unknown = {}): ServerReply => ({ status: 'ok', response });
/** `{status: 'error', response: {reason, message?}}`. */
export const error = (reason: string, message?: string): ServerReply => ({
	status: 'error',
	response: message === undefined ? { reason } : { reason, message }
});

/** A push as the server receives it. */
export interface ServerRequest {
	topic: string;
	event: string;
	payload: Record<string, unknown>;
	ref: number;
	/** Server clock time of arrival. */
	at: number;
}

/** Answers a push; null (or a promise of null) sends no reply at all. */
export type ServerHandler = (request: ServerRequest) => ServerReply | null | Promise<ServerReply | null>;

/** Frames the client sends. */
export type ClientFrame =
	| { kind: 'join'; ref: number; topic: string; payload: Record<string, unknown> }
	| { kind: 'leave'; ref: number; topic: string }
	| { kind: 'push'; ref: number; topic: string; event: string; payload: Record<string, unknown> };

/** Frames the server sends. */
export type ServerFrame =
	| { kind: 'reply'; ref: number; topic: string; reply: ServerReply }
	| { kind: 'message'; topic: string; event: string; payload: unknown };

/**
 * @example
 * pair.server.handle('send_message', ({ payload }) => ok({ message: makeMessage(payload) }));
 * pair.server.push('room:lobby', 'new_message', { message });
 */
export class MemoryServer {
	/** Every push acted on, in arrival order (a duplicated frame appears twice). */
	readonly received: ServerRequest[] = [];
	/** Topics joined on the current connection. */
	readonly joined = new Set<string>();
	/** Set to refuse connections: `unauthorized` ends the client's attempts. */
	refuse: 'unauthorized' | null = null;
	#handlers = new Map<string, ServerHandler>();
	#channelState = new Map<string, Record<string, unknown>>();
	#joinHandler: (topic: string, payload: Record<string, unknown>) => ServerReply = () => ok({});
	#toClient: (frame: ServerFrame, isReply: boolean) => void;

	constructor(
		readonly network: MemoryNetwork,
		toClient: (frame: ServerFrame, isReply: boolean) => void
	) {
		this.#toClient = toClient;
	}

	/** Answer pushes of `event` with `handler` (replaces an earlier one). Unhandled events get `invalid`. */
	handle(event: string, handler: ServerHandler): this {
		this.#handlers.set(event, handler);
		return this;
	}

	/** Answer joins (default: ok `{}` for every topic). */
	onJoin(handler: (topic: string, payload: Record<string, unknown>) => ServerReply): this {
		this.#joinHandler = handler;
		return this;
	}

	/** Push a message to the client, if it has `topic` joined; returns whether a frame was sent. */
	push(topic: string, event: string, payload: unknown): boolean {
		if (!this.network.connected || !this.joined.has(topic)) return false;
		this.#toClient({ kind: 'message', topic, event, payload }, false);
		return true;
	}

	/** State a handler keeps for the channel of `topic` on this connection: new at each join, gone with the channel (as the real server's `ctx.state`). */
	channelState(topic: string): Record<string, unknown> {
		let state = this.#channelState.get(topic);
		if (!state) this.#channelState.set(topic, (state = {}));
		return state;
	}

	/** Pushes received for one event, in arrival order. */
	receivedOf(event: string): ServerRequest[] {
		return this.received.filter((request) => request.event === event);
	}

	/** @internal The link closed: the server forgets the connection's joins. */
	connectionClosed(): void {
		this.joined.clear();
		this.#channelState.clear();
	}

	/** @internal A client frame arrived. */
	receive(frame: ClientFrame): void {
		if (frame.kind === 'join') {
			const reply = this.#joinHandler(frame.topic, frame.payload);
			this.#channelState.delete(frame.topic);
			if (reply.status === 'ok') this.joined.add(frame.topic);
			this.#toClient({ kind: 'reply', ref: frame.ref, topic: frame.topic, reply }, true);
			return;
		}
		if (frame.kind === 'leave') {
			this.joined.delete(frame.topic);
			this.#channelState.delete(frame.topic);
			return;
		}
		if (!this.joined.has(frame.topic)) {
			this.#toClient({ kind: 'reply', ref: frame.ref, topic: frame.topic, reply: error('invalid', 'topic not joined') }, true);
			return;
		}
		const request: ServerRequest = { topic: frame.topic, event: frame.event, payload: frame.payload, ref: frame.ref, at: this.network.clock.now() };
		this.received.push(request);
		const handler = this.#handlers.get(frame.event);
		const epoch = this.network.epoch;
		const send = (reply: ServerReply | null) => {
			// A reply to a connection that has since closed cannot be sent.
			if (reply && this.network.connected && this.network.epoch === epoch) {
				this.#toClient({ kind: 'reply', ref: frame.ref, topic: frame.topic, reply }, true);
			}
		};
		const result = handler ? handler(request) : error('invalid', `unknown event ${frame.event}`);
		if (result instanceof Promise) void result.then(send);
		else send(result);
	}
}
