/**
 * The wire between the in-memory client and server: a lossy, reordering,
 * duplicating link driven by a `Clock` and a seeded random, with a log of
 * every frame's fate. A frame sent on one connection is never delivered on
 * the next (`epoch`), as with a real socket.
 */
import type { Clock } from '../ports.js';

/** Which way a frame goes. */
export type Direction = 'toServer' | 'toClient';

/** How bad the network is. Rates are probabilities per frame, in [0, 1]. */
export interface NetworkFaults {
	/** One-way delay of every frame (ms, default 5). */
	latencyMs: number;
	/** Extra uniform delay in [0, jitterMs) per frame; above 0, frames overtake each other (default 0). */
	jitterMs: number;
	/** A frame is lost (default 0). */
	dropRate: number;
	/** A frame arrives twice, each copy with its own delay (default 0). */
	duplicateRate: number;
	/** A reply is lost after the server acted on the push: the lost ack (default 0). */
	lostAckRate: number;
}

export const DEFAULT_FAULTS: NetworkFaults = Object.freeze({
	latencyMs: 5,
	jitterMs: 0,
	dropRate: 0,
	duplicateRate: 0,
	lostAckRate: 0
});

/** What happened to one frame. */
export interface FrameRecord<F = unknown> {
	/** Order of sending, from 1. */
	seq: number;
	direction: Direction;
	frame: F;
	sentAt: number;
	/** Lost on the way (dropped, or a lost ack). */
	lost: 'dropped' | 'lost-ack' | null;
	/** Copies put on the wire (2 when duplicated). */
	copies: number;
	/** When each copy arrived. */
	deliveredAt: number[];
	/** Copies that arrived after their connection closed (discarded). */
	stale: number;
}

/**
 * @example
 * const net = new MemoryNetwork(clock, seededRandom(7), { dropRate: 0.1, jitterMs: 20 });
 */
export class MemoryNetwork {
	readonly log: FrameRecord[] = [];
	/** Counts connections; a frame only arrives on the connection it left on. */
	epoch = 0;
	connected = false;
	#faults: NetworkFaults;
	#dropNext: Record<Direction, number> = { toServer: 0, toClient: 0 };
	#loseAcks = 0;

	constructor(
		readonly clock: Clock,
		readonly random: () => number,
		faults: Partial<NetworkFaults> = {}
	) {
		this.#faults = checkFaults({ ...DEFAULT_FAULTS, ...faults });
	}

	get faults(): Readonly<NetworkFaults> {
		return this.#faults;
	}

	/** Change the faults from now on (frames already on the wire keep their fate). */
	setFaults(faults: Partial<NetworkFaults>): void {
		this.#faults = checkFaults({ ...this.#faults, ...faults });
	}

	/** Lose the next `n` frames going `direction`, whatever the rates. */
	dropNext(direction: Direction, n = 1): void {
		this.#dropNext[direction] += n;
	}

	/** Lose the next `n` replies after the server acted on their pushes. */
	loseNextAcks(n = 1): void {
		this.#loseAcks += n;
	}

	/** Start a connection: frames of earlier ones are stale from now on. */
	open(): void {
		this.epoch++;
		this.connected = true;
	}

	/** End the connection: frames on the wire will never arrive. */
	close(): void {
		this.connected = false;
	}

	/**
	 * Put a frame on the wire; `deliver` runs once per copy that arrives.
	 * `isReply` marks server replies, which lost acks apply to.
	 */
	send<F>(direction: Direction, frame: F, deliver: (frame: F) => void, isReply = false): FrameRecord<F> {
		const record: FrameRecord<F> = { seq: this.log.length + 1, direction, frame, sentAt: this.clock.now(), lost: null, copies: 0, deliveredAt: [], stale: 0 };
		this.log.push(record);
		if (!this.connected) {
			record.stale++;
			return record;
		}
		const f = this.#faults;
		if (this.#dropNext[direction] > 0) {
			this.#dropNext[direction]--;
			record.lost = 'dropped';
		} else if (isReply && this.#loseAcks > 0) {
			this.#loseAcks--;
			record.lost = 'lost-ack';
		} else if (this.random() < f.dropRate) {
			record.lost = 'dropped';
		} else if (isReply && this.random() < f.lostAckRate) {
			record.lost = 'lost-ack';
		}
		if (record.lost) return record;
		record.copies = this.random() < f.duplicateRate ? 2 : 1;
		const epoch = this.epoch;
		for (let i = 0; i < record.copies; i++) {
			const delay = f.latencyMs + (f.jitterMs > 0 ? this.random() * f.jitterMs : 0);
			this.clock.setTimeout(() => {
				if (!this.connected || this.epoch !== epoch) {
					record.stale++;
					return;
				}
				record.deliveredAt.push(this.clock.now());
				deliver(frame);
			}, delay);
		}
		return record;
	}
}

function checkFaults(faults: NetworkFaults): NetworkFaults {
	for (const key of ['latencyMs', 'jitterMs'] as const) {
		if (!(faults[key] >= 0)) throw new TypeError(`network fault ${key} must be >= 0 ms, got ${faults[key]}`);
	}
	for (const key of ['dropRate', 'duplicateRate', 'lostAckRate'] as const) {
		if (!(faults[key] >= 0 && faults[key] <= 1)) throw new TypeError(`network fault ${key} must be a probability in [0, 1], got ${faults[key]}`);
	}
	return faults;
}
