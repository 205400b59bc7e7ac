/**
 * A draining stop for a `node:http` server. Node's own `server.close()`
 * also closes every *idle* connection at once (since Node 19), and a
 * connection whose request is still in the kernel's buffer, accepted but
 * not yet read, counts as idle: its request would be reset. Here the
 * listening socket closes first, then requests keep being read and
 * answered (each with `Connection: close`) until none has started for a
 * short quiet spell and none is running; only then are the connections
 * left (idle keep-alives) closed.
 */
import { Server as NetServer } from 'node:net';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';

/** No new request for this long after the last one ended: nothing more is on its way. */
const QUIET_MS = 250;

export class HttpDrain {
	readonly #server: Server;
	readonly #active = new Set<ServerResponse>();
	#lastActivity = 0;
	#draining = false;

	constructor(server: Server) {
		this.#server = server;
	}

	/** Requests being answered now. */
	get inFlight(): number {
		return this.#active.size;
	}

	get draining(): boolean {
		return this.#draining;
	}

	/** Call first thing for every request. */
	track(_req: IncomingMessage, res: ServerResponse): void {
		this.#active.add(res);
		this.#lastActivity = Date.now();
		if (this.#draining) res.setHeader('connection', 'close');
		res.once('close', () => {
			this.#active.delete(res);
			this.#lastActivity = Date.now();
		});
	}

	/** Close the listening socket (new connections are refused); open ones keep being served. */
	stopAccepting(): Promise<void> {
		this.#draining = true;
		this.#lastActivity = Date.now();
		for (const res of this.#active) if (!res.headersSent) res.setHeader('connection', 'close');
		return new Promise((resolve) => {
			if (!this.#server.listening) return resolve();
			// net.Server's close: stop listening without http.Server's closeIdleConnections().
			NetServer.prototype.close.call(this.#server);
			resolve();
		});
	}

	/** Resolves true once no request runs and none started for a quiet spell, false at `deadline`. */
	async settle(deadline: number): Promise<boolean> {
		for (;;) {
			const quietFor = Date.now() - this.#lastActivity;
			if (this.#active.size === 0 && quietFor >= QUIET_MS) return true;
			if (Date.now() >= deadline) return false;
			await new Promise((resolve) => setTimeout(resolve, Math.min(50, Math.max(1, deadline - Date.now()))));
		}
	}

	/** Close every connection still open (idle keep-alives; at the deadline, busy ones too). */
	closeConnections(): void {
		this.#server.closeAllConnections();
	}
}
