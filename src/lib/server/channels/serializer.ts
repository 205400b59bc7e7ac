/**
 * The two JSON serializers Phoenix serves, chosen per connection by the
 * `vsn` query param as Phoenix's `negotiate_serializer` does: `~> 1.0.0` is
 * V1 (object frames; also what a client that sends no `vsn` gets, as older
 * and native clients do), `~> 2.0.0` is V2 (array frames plus binary ones).
 * Anything else is refused. Channels never see the difference: every frame
 * the server writes goes through the connection's serializer.
 */
import { decodeTextFrame, decodeV1Frame, encodeTextFrame, encodeV1Frame, type Frame } from '../../protocol/frames.js';

export interface Serializer {
	/** `'1.0.0'` or `'2.0.0'`: the protocol version it speaks. */
	readonly vsn: string;
	/** Whether binary frames exist in this version (V2 only). */
	readonly binary: boolean;
	encode(joinRef: string | null, ref: string | null, topic: string, event: string, payload: unknown): string;
	decode(text: string): Frame<Record<string, unknown>> | null;
}

/** Phoenix's `V1.JSONSerializer`: `{topic, event, payload, ref, join_ref}`, no binary frames. */
export const V1_SERIALIZER: Serializer = { vsn: '1.0.0', binary: false, encode: encodeV1Frame, decode: decodeV1Frame };

/** Phoenix's `V2.JSONSerializer`: `[join_ref, ref, topic, event, payload]` plus binary frames. */
export const V2_SERIALIZER: Serializer = { vsn: '2.0.0', binary: true, encode: encodeTextFrame, decode: decodeTextFrame };

/** Every serializer, in the order fan-out encodes for them. */
export const SERIALIZERS: readonly Serializer[] = [V2_SERIALIZER, V1_SERIALIZER];

const VSN_RE = /^(\d+)\.(\d+)\.(\d+)$/;

/**
 * The serializer for a connect's `vsn` (`undefined`: none was sent), or null
 * when no serializer matches: `1.0.x` and a missing `vsn` are V1, `2.0.x` is
 * V2, and anything else (`2.1.0`, `3.0.0`, `latest`) is refused.
 */
export function negotiateSerializer(vsn: string | undefined): Serializer | null {
	if (vsn === undefined) return V1_SERIALIZER;
	const match = VSN_RE.exec(vsn);
	if (!match || match[2] !== '0') return null;
	if (match[1] === '1') return V1_SERIALIZER;
	if (match[1] === '2') return V2_SERIALIZER;
	return null;
}
