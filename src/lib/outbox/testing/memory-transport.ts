/**
 * An in-memory transport pair: `client` implements the `Transport` port the
 * runtime uses, `server` (`MemoryServer`) is scripted by the test, and
 * `network` (`MemoryNetwork`) between them drops, delays, duplicates and
 * reorders frames and loses acks, all on the injected clock and a seeded
 * random, so every run of a seed is the same run.
 * The client behaves as the phoenix adapter must (see `memory-client.ts`).
 */
import type { Clock } from '../ports.js';
import { MemoryClientTransport } from './memory-client.js';
import type { ClientLink } from './memory-client.js';
import type { NetworkFaults } from './memory-network.js';
import { MemoryNetwork } from './memory-network.js';
import { MemoryServer } from './memory-server.js';
import { seededRandom } from './seeded-random.js';

export interface MemoryTransportOptions {
	clock: Clock;
	/** Seed of the network's random (default 1). Ignored when `random` is given. */
	seed?: number;
	random?: () => number;
	faults?: Partial<NetworkFaults>;
	/** Delay before reconnect attempt `tries` (from 1); phoenix's default steps. */
	reconnectAfterMs?: (tries: number) => number;
	/** A join with no reply in this time is tried again (default 10,000 ms). */
	joinTimeoutMs?: number;
}

const PHOENIX_RECONNECT_STEPS = [10, 50, 100, 150, 200, 250, 500, 1000, 2000];
const phoenixReconnectAfterMs = (tries: number) => PHOENIX_RECONNECT_STEPS[tries - 1] ?? 5000;

/**
 * The pair: client, server and the network between them.
 *
 * @example
 * const clock = new FakeClock();
 * const pair = createMemoryTransportPair({ clock, seed: 7, faults: { dropRate: 0.2, jitterMs: 30 } });
 * pair.server.handle('send_message', ({ payload }) => ok({ message: ... }));
 * pair.client.connect();
 * await clock.advanceAsync(100);
 * pair.cut(); // in-flight pushes resolve `closed`; the client reconnects
 */
export class MemoryTransportPair implements ClientLink {
	readonly clock: Clock;
	readonly network: MemoryNetwork;
	readonly server: MemoryServer;
	readonly client: MemoryClientTransport;
	#reachable = true;

	constructor(options: MemoryTransportOptions) {
		this.clock = options.clock;
		this.network = new MemoryNetwork(options.clock, options.random ?? seededRandom(options.seed ?? 1), options.faults);
		this.server = new MemoryServer(this.network, (frame, isReply) =>
			this.network.send('toClient', frame, (f) => this.client.receive(f), isReply)
		);
		this.client = new MemoryClientTransport(this, {
			reconnectAfterMs: options.reconnectAfterMs ?? phoenixReconnectAfterMs,
			joinTimeoutMs: options.joinTimeoutMs ?? 10_000
		});
	}

	/** Whether connection attempts can succeed (false: the network is gone). */
	get reachable(): boolean {
		return this.#reachable;
	}

	/** Take the network away (cuts the connection; attempts fail) or give it back. */
	setReachable(reachable: boolean): void {
		this.#reachable = reachable;
		if (!reachable) this.cut();
	}

	/** Drop the current connection, as a dead link or a server restart would. The client reconnects. */
	cut(): void {
		if (this.network.connected) this.closeConnection();
	}

	/** @internal */
	closeConnection(): void {
		this.network.close();
		this.server.connectionClosed();
		this.client.connectionClosed();
	}

	/** @internal A connection attempt: true when it opened. */
	tryOpen(): boolean {
		if (!this.#reachable) return false;
		if (this.server.refuse) {
			this.client.refused(this.server.refuse);
			return true;
		}
		this.network.open();
		this.client.connectionOpened();
		return true;
	}
}

/** A client/server pair over a faulty in-memory network (see `MemoryTransportPair`). */
export function createMemoryTransportPair(options: MemoryTransportOptions): MemoryTransportPair {
	return new MemoryTransportPair(options);
}
