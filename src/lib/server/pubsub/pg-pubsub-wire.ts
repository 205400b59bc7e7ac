/**
 * What travels in a NOTIFY payload of the PostgreSQL pub/sub. Two forms:
 *
 * - inline: `{"o":"<origin>","m":<message>}` — the message itself;
 * - reference: `@<origin>:<id>` — the message is row `<id>` of
 *   `pubsub_payloads` (it did not fit in a notification).
 *
 * `<origin>` is the publishing instance's random id, so an instance can drop
 * its own echo without fetching or parsing the message further.
 */
import type { PubSubMessage } from '../channels/types.js';

/** NOTIFY refuses payloads of 8000 bytes or more (PostgreSQL's default build). */
export const INLINE_MAX_BYTES = 7999;

export type Notification =
	| { origin: string; message: PubSubMessage; payloadId?: undefined }
	| { origin: string; message?: undefined; payloadId: string };

const REF_RE = /^@([0-9a-f]{1,64}):([1-9][0-9]{0,18})$/;

/** The inline payload around a message already encoded as JSON. */
export function encodeInline(origin: string, messageJson: string): string {
	return `{"o":${JSON.stringify(origin)},"m":${messageJson}}`;
}

/** The reference payload, or its prefix when `id` is empty (the SQL appends the id). */
export function encodeRef(origin: string, id: string): string {
	return `@${origin}:${id}`;
}

/** The notification a payload encodes, or null when it is neither form. */
export function decodeNotification(text: string): Notification | null {
	const ref = REF_RE.exec(text);
	if (ref) return { origin: ref[1]!, payloadId: ref[2]! };
	try {
		const parsed = JSON.parse(text) as { o?: unknown; m?: unknown };
		if (typeof parsed?.o !== 'string' || !isMessage(parsed.m)) return null;
		return { origin: parsed.o, message: parsed.m };
	} catch {
		return null;
	}
}

function isMessage(value: unknown): value is PubSubMessage {
	const kind = (value as { kind?: unknown } | null)?.kind;
	return kind === 'broadcast' || kind === 'disconnect';
}
