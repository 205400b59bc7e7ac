/**
 * What each of several official-client sockets is pushed on one topic, and
 * a way to prove that something did *not* arrive without sleeping: a marker
 * message is sent after the action through the same server process; a socket
 * gets that process's frames in order, so once every socket has heard the
 * marker, anything the action pushed to it has arrived already.
 */
import type { Channel, Socket } from 'phoenix';
import { cid, push, until } from '../chat/harness.js';

/** One server-initiated frame (not a reply, not channel control). */
export interface Seen {
	joinRef: string | null;
	ref: string | null;
	event: string;
	payload: any;
}

const MARKER_PREFIX = 'marker-';
const isMarker = (s: Seen) => s.event === 'new_message' && String(s.payload?.message?.client_id).startsWith(MARKER_PREFIX);

/** A single push as the log shows it: `[null, null, topic, event, payload]`. */
export const only = (event: string, payload: unknown): Seen[] => [{ joinRef: null, ref: null, event, payload }];

/**
 * Start logging `topic` on each socket (before joining, so nothing is
 * missed). `settle(marker)` sends a marker through `marker` (a joined channel
 * of a socket that is not logged) and returns what each socket got since the
 * last settle, markers left out.
 */
export function createPushLog<K extends string>(topic: string, sockets: Record<K, Socket>) {
	const keys = Object.keys(sockets) as K[];
	const seen = {} as Record<K, Seen[]>;
	const from = {} as Record<K, number>;
	for (const key of keys) {
		seen[key] = [];
		from[key] = 0;
		sockets[key].onMessage((frame: any) => {
			if (frame.topic === topic && !String(frame.event).startsWith('phx_')) {
				seen[key].push({ joinRef: frame.join_ref ?? null, ref: frame.ref ?? null, event: frame.event, payload: frame.payload });
			}
		});
	}
	return {
		async settle(marker: Channel): Promise<Record<K, Seen[]>> {
			const sent = await push(marker, 'send_message', { client_id: cid(MARKER_PREFIX), body: 'marker' });
			if (sent.status !== 'ok') throw new Error(`marker refused: ${JSON.stringify(sent)}`);
			const id = sent.response.message.id;
			const at = (key: K) => seen[key].findIndex((s) => isMarker(s) && s.payload.message.id === id);
			await until(() => keys.every((key) => at(key) >= 0), 10_000, 'the marker on every socket');
			const got = {} as Record<K, Seen[]>;
			for (const key of keys) {
				const end = at(key);
				got[key] = seen[key].slice(from[key], end).filter((s) => !isMarker(s));
				from[key] = end + 1;
			}
			return got;
		}
	};
}
