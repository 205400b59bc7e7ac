/**
 * The confirmed side of an optimistic collection: the server's messages of
 * one room, as pushes (`new_message`, `message_updated`) and sync pages
 * deliver them, in any order and possibly twice.
 *
 * Same shape as the queue: a mutable container of immutable messages with a
 * `version`, so a 10,000-message merge is O(n log n) once, not a copy per
 * message. `order` is kept sorted by `seq`; messages usually arrive in `seq`
 * order and are appended, late ones are put in place by binary search.
 */
import type { Message } from '../protocol/message.js';

/** The server's messages of one room. Read-only outside `applyServerMessages`. */
export interface ConfirmedMessages {
	/** id -> message (the newest `version` seen). */
	readonly byId: Map<string, Message>;
	/** client_id -> id, to match pending actions. Unique per author only: check `author.id` too. */
	readonly idByClientId: Map<string, string>;
	/** Messages sorted by `seq`. */
	readonly order: Message[];
	version: number;
}

/** An empty confirmed collection, or one holding `messages`. */
export function createConfirmed(messages: readonly Message[] = []): ConfirmedMessages {
	const confirmed: ConfirmedMessages = { byId: new Map(), idByClientId: new Map(), order: [], version: 0 };
	applyServerMessages(confirmed, messages);
	return confirmed;
}

/**
 * Merge messages from pushes or a sync page. A message whose `version` is
 * not above the one held is ignored (a reordered or duplicated push never
 * overwrites newer state; an equal one keeps the held object, so nothing
 * re-renders). Returns the ids that changed.
 *
 * @example
 * transport.onMessage(topic, 'new_message', ({ message }) => applyServerMessages(confirmed, [message]));
 */
export function applyServerMessages(confirmed: ConfirmedMessages, messages: readonly Message[]): string[] {
	const changed: string[] = [];
	for (const message of messages) {
		const held = confirmed.byId.get(message.id);
		if (held && held.version >= message.version) continue;
		confirmed.byId.set(message.id, message);
		confirmed.idByClientId.set(message.client_id, message.id);
		if (held) replaceInOrder(confirmed.order, held, message);
		else insertInOrder(confirmed.order, message);
		changed.push(message.id);
	}
	if (changed.length > 0) confirmed.version++;
	return changed;
}

/** The confirmed message for one of the user's own client ids, if it has arrived. */
export function findByClientId(confirmed: ConfirmedMessages, clientId: string, authorId: string): Message | undefined {
	const id = confirmed.idByClientId.get(clientId);
	const message = id === undefined ? undefined : confirmed.byId.get(id);
	return message && message.author.id === authorId ? message : undefined;
}

/** The highest `seq` held, or null when empty (for `history` paging and `mark_read`). */
export function lastSeq(confirmed: ConfirmedMessages): number | null {
	return confirmed.order[confirmed.order.length - 1]?.seq ?? null;
}

function insertInOrder(order: Message[], message: Message): void {
	const last = order[order.length - 1];
	if (!last || last.seq < message.seq) {
		order.push(message);
		return;
	}
	order.splice(lowerBound(order, message.seq), 0, message);
}

function replaceInOrder(order: Message[], held: Message, message: Message): void {
	const index = lowerBound(order, held.seq);
	if (order[index] === held) order[index] = message;
	else order[order.indexOf(held)] = message; // two messages with one seq: should not happen
}

/** First index whose seq is >= `seq`. */
function lowerBound(order: Message[], seq: number): number {
	let lo = 0;
	let hi = order.length;
	while (lo < hi) {
		const mid = (lo + hi) >>> 1;
		if ((order[mid] as Message).seq < seq) lo = mid + 1;
		else hi = mid;
	}
	return lo;
}
