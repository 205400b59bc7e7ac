/**
 * The chat's settings for the kit's background flush (`outbox/sw`): Outbox's
 * `POST /api/sync/events` endpoint (`{room, actions}`), who is signed in
 * (`GET /api/session` with the cookie), and what a confirmed batch changes
 * beside the queue: the room's stored snapshot gains the confirmed messages
 * (cursor unchanged), so the next visit shows them sent even offline, and its
 * sync still fetches whatever else changed since.
 */
import type { FlushOptions } from '../outbox/sw/index.js';
import { EVENTS } from '../protocol/events.js';
import { wireUploads } from '../outbox/core/files.js';
import { sendMessageWire } from './attachments.js';
import { ACTION_TYPES, roomSlugFromTopic } from '../protocol/events.js';
import type { Message } from '../protocol/message.js';
import { applyServerMessages, createConfirmed } from './confirmed.js';
import { DEFAULT_SNAPSHOT_LIMIT, snapshotKey } from './room-state.js';
import { readPushedMessages, readSnapshot } from './wire.js';

const CHAT_TYPES: ReadonlySet<string> = new Set(ACTION_TYPES);

/** The flush options for Outbox's own server, at `baseUrl` (default: this origin). */
export function chatFlushOptions(baseUrl = ''): FlushOptions {
	return {
		endpoint: `${baseUrl}/api/sync/events`,
		async sessionCheck() {
			const response = await fetch(`${baseUrl}/api/session`, { credentials: 'same-origin', cache: 'no-store', headers: { accept: 'application/json' } });
			if (response.status === 401) return null;
			if (!response.ok) throw new Error(`GET /api/session answered ${response.status}`);
			const id = ((await response.json()) as { user?: { id?: unknown } }).user?.id;
			if (typeof id !== 'string' || id === '') throw new Error('GET /api/session gave no user id');
			return id;
		},
		body: (topic, actions) => ({ room: roomSlugFromTopic(topic), actions }),
		isBatchable: (type) => CHAT_TYPES.has(type),
		// A send with files names their uploads (the flush uploads them first).
		toWire: (item) => (item.type === EVENTS.sendMessage && item.files?.length ? sendMessageWire(item.payload, wireUploads(item)) : { ...item.payload }),
		acceptsTopic: (topic) => roomSlugFromTopic(topic) !== null,
		async onConfirmed(topic, replies, get) {
			const messages = replies.flatMap((reply) => readPushedMessages(reply) ?? []);
			if (messages.length === 0) return null;
			const key = snapshotKey(topic);
			const next = mergeIntoSnapshot(await get(key), messages);
			return next ? { [key]: next } : null;
		}
	};
}

/**
 * A stored room snapshot with `messages` merged in (newest version per id,
 * `seq` order, the last `max(kept, DEFAULT_SNAPSHOT_LIMIT)`), cursor and
 * sync time unchanged; null when there is no snapshot (the room's first
 * visit loads history anyway).
 */
export function mergeIntoSnapshot(stored: unknown, messages: readonly Message[]): { cursor: string; messages: Message[]; syncedAt: number | null } | null {
	const snapshot = readSnapshot(stored);
	if (snapshot === null) return null;
	const merged = createConfirmed(snapshot.messages);
	if (applyServerMessages(merged, messages).length === 0) return snapshot;
	return { ...snapshot, messages: merged.order.slice(-Math.max(snapshot.messages.length, DEFAULT_SNAPSHOT_LIMIT)) };
}
