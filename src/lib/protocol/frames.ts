/**
 * Phoenix Channels frames, pure encode/decode (no sockets, no Node APIs),
 * shared by the server and by anything that speaks the wire directly.
 *
 * V2 (`vsn=2.0.0`) text frames are JSON arrays `[join_ref, ref, topic, event, payload]`.
 * V1 (`vsn=1.0.0`, or no `vsn`: older and native clients) text frames are
 * JSON objects `{topic, event, payload, ref, join_ref}`; V1 has no binary frames.
 * Binary frames carry a one-byte kind, one-byte lengths, UTF-8 strings of at
 * most 255 bytes each, then the raw payload (PROTOCOL.md §2.2):
 *
 * | kind | direction     | header after the kind byte                         |
 * |------|---------------|----------------------------------------------------|
 * | 0    | client→server | len(join_ref) len(ref) len(topic) len(event)       |
 * | 0    | server→client | len(join_ref) len(topic) len(event) (no ref)       |
 * | 1    | server→client | len(join_ref) len(ref) len(topic) len(status)      |
 * | 2    | server→client | len(topic) len(event)                              |
 */

/** One decoded frame. `payload` is a JSON object, or the raw bytes of a binary frame. */
export interface Frame<P = unknown> {
	joinRef: string | null;
	ref: string | null;
	topic: string;
	event: string;
	payload: P;
}

/** Binary frame kinds, as the official serializer numbers them. */
export const BINARY_KIND = { push: 0, reply: 1, broadcast: 2 } as const;

const MAX_FIELD_BYTES = 255;
const utf8Encoder = new TextEncoder();
// fatal: a frame with broken UTF-8 in its header is malformed, not "close enough".
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/** `[join_ref, ref, topic, event, payload]` as JSON. */
export function encodeTextFrame(
	joinRef: string | null,
	ref: string | null,
	topic: string,
	event: string,
	payload: unknown
): string {
	return JSON.stringify([joinRef, ref, topic, event, payload]);
}

/**
 * Parse a text frame. Returns null for anything that is not a 5-element array
 * of (string|null, string|null, string, string, object); trailing extra
 * elements are ignored, as Phoenix does.
 */
export function decodeTextFrame(text: string): Frame<Record<string, unknown>> | null {
	let parsed: unknown;
	try {
		parsed = JSON.parse(text);
	} catch {
		return null;
	}
	if (!Array.isArray(parsed) || parsed.length < 5) return null;
	const [joinRef, ref, topic, event, payload] = parsed as unknown[];
	if (!isRef(joinRef) || !isRef(ref)) return null;
	if (typeof topic !== 'string' || typeof event !== 'string') return null;
	if (!isPlainObject(payload)) return null;
	return { joinRef, ref, topic, event, payload };
}

/** V1: `{topic, event, payload, ref, join_ref}` as JSON (Phoenix's `V1.JSONSerializer`). */
export function encodeV1Frame(
	joinRef: string | null,
	ref: string | null,
	topic: string,
	event: string,
	payload: unknown
): string {
	return JSON.stringify({ topic, event, payload, ref, join_ref: joinRef });
}

/**
 * Parse a V1 text frame. Returns null unless it is an object with string
 * `topic` and `event`, an object `payload` and a `ref` that is a string or
 * null; `join_ref` may be missing (clients before Phoenix 1.3 never send it).
 * Other keys are ignored, as Phoenix's `Message.from_map!` does.
 */
export function decodeV1Frame(text: string): Frame<Record<string, unknown>> | null {
	let parsed: unknown;
	try {
		parsed = JSON.parse(text);
	} catch {
		return null;
	}
	if (!isPlainObject(parsed)) return null;
	const { topic, event, payload, ref } = parsed;
	const joinRef = parsed.join_ref ?? null;
	if (ref === undefined || !isRef(ref) || !isRef(joinRef)) return null;
	if (typeof topic !== 'string' || typeof event !== 'string') return null;
	if (!isPlainObject(payload)) return null;
	return { joinRef, ref, topic, event, payload };
}

/**
 * Decode a client→server binary push (kind 0 with a ref). Returns null when
 * the kind is not 0 or the lengths overrun the buffer. The payload is a view
 * into `bytes`, not a copy.
 */
export function decodeBinaryPush(bytes: Uint8Array): Frame<Uint8Array> | null {
	if (bytes.byteLength < 5 || bytes[0] !== BINARY_KIND.push) return null;
	const sizes = [bytes[1]!, bytes[2]!, bytes[3]!, bytes[4]!];
	const fields: string[] = [];
	let offset = 5;
	for (const size of sizes) {
		if (offset + size > bytes.byteLength) return null;
		try {
			fields.push(utf8Decoder.decode(bytes.subarray(offset, offset + size)));
		} catch {
			return null;
		}
		offset += size;
	}
	const [joinRef, ref, topic, event] = fields as [string, string, string, string];
	return {
		// The client writes a missing ref as an empty field; treat it as null.
		joinRef: joinRef === '' ? null : joinRef,
		ref: ref === '' ? null : ref,
		topic,
		event,
		payload: bytes.subarray(offset)
	};
}

/** Client→server kind-0 push (what the official client sends for an ArrayBuffer payload). */
export function encodeBinaryClientPush(
	joinRef: string,
	ref: string,
	topic: string,
	event: string,
	data: Uint8Array
): Uint8Array {
	return concatFrame(BINARY_KIND.push, [joinRef, ref, topic, event], data);
}

/** Server→client kind-0 push: `[JR, null, T, event, bytes]` (no ref field). */
export function encodeBinaryPush(joinRef: string, topic: string, event: string, data: Uint8Array): Uint8Array {
	return concatFrame(BINARY_KIND.push, [joinRef, topic, event], data);
}

/** Server→client kind-1 reply; the client turns it into `phx_reply {status, response: ArrayBuffer}`. */
export function encodeBinaryReply(
	joinRef: string,
	ref: string,
	topic: string,
	status: string,
	data: Uint8Array
): Uint8Array {
	return concatFrame(BINARY_KIND.reply, [joinRef, ref, topic, status], data);
}

/** Server→client kind-2 broadcast: `[null, null, T, event, bytes]`. */
export function encodeBinaryBroadcast(topic: string, event: string, data: Uint8Array): Uint8Array {
	return concatFrame(BINARY_KIND.broadcast, [topic, event], data);
}

/** Bytes of an ArrayBuffer or any typed-array view, without copying. */
export function asBytes(data: ArrayBuffer | ArrayBufferView): Uint8Array {
	if (data instanceof Uint8Array) return data;
	if (data instanceof ArrayBuffer) return new Uint8Array(data);
	return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function concatFrame(kind: number, strings: string[], data: Uint8Array): Uint8Array {
	const encoded = strings.map((s) => utf8Encoder.encode(s));
	let headerLength = 1 + encoded.length;
	for (const field of encoded) {
		// The official serializer refuses the same; a longer field cannot be framed.
		if (field.byteLength > MAX_FIELD_BYTES) {
			throw new RangeError(`binary frame field is ${field.byteLength} bytes; the limit is ${MAX_FIELD_BYTES}`);
		}
		headerLength += field.byteLength;
	}
	const out = new Uint8Array(headerLength + data.byteLength);
	out[0] = kind;
	let offset = 1;
	for (const field of encoded) out[offset++] = field.byteLength;
	for (const field of encoded) {
		out.set(field, offset);
		offset += field.byteLength;
	}
	out.set(data, offset);
	return out;
}

function isRef(value: unknown): value is string | null {
	return value === null || typeof value === 'string';
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}
