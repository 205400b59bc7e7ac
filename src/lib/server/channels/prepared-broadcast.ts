/**
 * One broadcast as every subscriber in this process gets it: encoded at most
 * once per serializer in use (V2 for today's clients, V1 for older ones) and
 * framed once, so a fan-out to 10,000 sockets allocates nothing per socket
 * (Phoenix's "fastlane" does the same per serializer).
 */
import type { Serializer } from './serializer.js';
import { frameOf } from './write-batch.js';

export class PreparedBroadcast {
	#serializers: Serializer[] = [];
	#texts: string[] = [];
	#frames: Array<Buffer | undefined> = [];

	constructor(
		readonly topic: string,
		readonly event: string,
		readonly payload: Record<string, unknown>
	) {}

	/** `[null, null, topic, event, payload]` in `serializer`'s format. Throws if the payload is not JSON. */
	text(serializer: Serializer): string {
		const i = this.#slot(serializer);
		return this.#texts[i]!;
	}

	/** The text as one WebSocket frame, header included, shared by every recipient. */
	framed(serializer: Serializer): Buffer {
		const i = this.#slot(serializer);
		return (this.#frames[i] ??= frameOf(this.#texts[i]!));
	}

	#slot(serializer: Serializer): number {
		const serializers = this.#serializers;
		for (let i = 0; i < serializers.length; i++) if (serializers[i] === serializer) return i;
		this.#texts.push(serializer.encode(null, null, this.topic, this.event, this.payload));
		this.#frames.push(undefined);
		return serializers.push(serializer) - 1;
	}
}
