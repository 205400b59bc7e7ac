/**
 * What the chat reads from the server, checked at the boundary by hand (no
 * schema library in the browser bundle): tolerant of what a server may add
 * (unknown fields are ignored; a numeric id is read as its string), strict
 * about what the chat needs. A payload that does not pass is refused
 * (`null`) and the room reports it (`payload-refused`): never dropped silently.
 */
import type { Attachment, Message } from '../protocol/message.js';

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => value !== null && typeof value === 'object' && !Array.isArray(value);
const isCount = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

/** An id as a string: servers with integer primary keys send numbers. */
function idOf(value: unknown): string | null {
	if (typeof value === 'string' && value !== '') return value;
	if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
	return null;
}

/** A message from a push, a reply, a page or a snapshot; null when it lacks what the chat needs. */
export function readMessage(raw: unknown): Message | null {
	if (!isObject(raw) || !isObject(raw.author)) return null;
	const id = idOf(raw.id);
	const clientId = idOf(raw.client_id);
	const authorId = idOf(raw.author.id);
	const { seq, version } = raw;
	if (id === null || clientId === null || authorId === null || !isCount(seq) || !isCount(version)) return null;
	const body = typeof raw.body === 'string' ? raw.body : raw.body === null || raw.body === undefined ? '' : null;
	if (body === null) return null;
	const text = (value: unknown) => (typeof value === 'string' ? value : '');
	return {
		id,
		client_id: clientId,
		room: text(raw.room),
		author: { id: authorId, name: typeof raw.author.name === 'string' ? raw.author.name : authorId },
		body,
		seq,
		version,
		deleted: raw.deleted === true,
		inserted_at: text(raw.inserted_at),
		updated_at: text(raw.updated_at),
		attachments: readAttachments(raw.attachments)
	};
}

/** A message's files (`[{id, name, type, size}]`); entries that do not read are left out, a missing list is empty. */
function readAttachments(raw: unknown): Attachment[] {
	if (!Array.isArray(raw)) return [];
	const out: Attachment[] = [];
	for (const entry of raw) {
		if (!isObject(entry)) continue;
		const id = idOf(entry.id);
		if (id === null || typeof entry.type !== 'string' || !isCount(entry.size)) continue;
		out.push({ id, name: typeof entry.name === 'string' ? entry.name : id, type: entry.type, size: entry.size });
	}
	return out;
}

/** Every message of a list, or null when the list is not one or one of them does not read. */
export function readMessages(raw: unknown): Message[] | null {
	if (!Array.isArray(raw)) return null;
	const messages: Message[] = [];
	for (const entry of raw) {
		const message = readMessage(entry);
		if (message === null) return null;
		messages.push(message);
	}
	return messages;
}

/** A sync cursor: any non-empty string the server gave (it is opaque). */
export function readCursor(raw: unknown): string | null {
	return typeof raw === 'string' && raw !== '' && raw.length <= 1000 ? raw : null;
}

/** `sync:complete {messages, cursor, unread_count, complete}`. */
export interface SyncPage {
	messages: Message[];
	cursor: string;
	unreadCount: number | null;
	complete: boolean;
}

export function readSyncPage(raw: unknown): SyncPage | null {
	if (!isObject(raw)) return null;
	const messages = readMessages(raw.messages);
	const cursor = readCursor(raw.cursor);
	if (messages === null || cursor === null || typeof raw.complete !== 'boolean') return null;
	return { messages, cursor, unreadCount: isCount(raw.unread_count) ? raw.unread_count : null, complete: raw.complete };
}

/** The `history` reply: `{messages, cursor}` (an empty room's cursor may be empty: read as null). */
export function readHistory(raw: unknown): { messages: Message[]; cursor: string | null } | null {
	if (!isObject(raw)) return null;
	const messages = readMessages(raw.messages);
	return messages === null ? null : { messages, cursor: readCursor(raw.cursor) };
}

/** A push carrying one message (`new_message`, `message_updated`) or several (`changes`). */
export function readPushedMessages(raw: unknown): Message[] | null {
	if (!isObject(raw)) return null;
	if ('messages' in raw) return readMessages(raw.messages);
	const message = readMessage(raw.message);
	return message === null ? null : [message];
}

/** The stored snapshot of a room: `{cursor, messages, syncedAt?}`. */
export interface Snapshot {
	cursor: string;
	messages: Message[];
	/** Clock time of the last sync that completed (or of the first load). */
	syncedAt: number | null;
}

export function readSnapshot(raw: unknown): Snapshot | null {
	if (!isObject(raw)) return null;
	const cursor = readCursor(raw.cursor);
	const messages = readMessages(raw.messages);
	if (cursor === null || messages === null) return null;
	return { cursor, messages, syncedAt: typeof raw.syncedAt === 'number' ? raw.syncedAt : null };
}
