/**
 * Which push a call's changes become (DESIGN.md, server -> client pushes):
 * nothing when no message changed; `new_message` or `message_updated` when
 * exactly one did; one `changes {messages}` when more than one did, so a
 * batch of 100 costs every other socket one frame instead of 100.
 */
import { EVENTS, type Message } from '../../protocol/index.js';
import type { ApplyOutcome } from '../store/port.js';

/** One push to the room: its event and payload. */
export interface RoomPush {
	event: typeof EVENTS.newMessage | typeof EVENTS.messageUpdated | typeof EVENTS.changes;
	payload: { message: Message } | { messages: Message[] };
}

/**
 * The push for one call's outcome, or null when it changed no message
 * (`mark_read`, replays, refusals). A message changed twice in one call
 * (sent, then edited) counts once, in its latest state, at its last change
 * (the place a `sync` would list it).
 */
export function pushForOutcome(outcome: ApplyOutcome): RoomPush | null {
	const changed = changedInOrder(outcome);
	if (changed.length === 0) return null;
	if (changed.length > 1) return { event: EVENTS.changes, payload: { messages: changed } };
	const message = changed[0]!;
	const created = outcome.created.some((m) => m.id === message.id);
	return { event: created ? EVENTS.newMessage : EVENTS.messageUpdated, payload: { message } };
}

/**
 * Every message the call changed, once each in its latest state, ordered by
 * its last change. The store reports creations and updates in two lists; the
 * results (in the order applied) interleave them: a fresh change's result
 * holds the very object the store listed, a replay's holds a stored copy.
 */
export function changedInOrder(outcome: ApplyOutcome): Message[] {
	const fresh = new Set<Message>(outcome.created);
	for (const message of outcome.updated) fresh.add(message);
	if (fresh.size === 0) return [];
	const ordered: Message[] = [];
	for (const result of outcome.results) {
		if (result.status === 'ok' && 'message' in result && fresh.delete(result.message)) ordered.push(result.message);
	}
	// A store that hands out copies in its results: nothing is lost, the rest follow in the store's order.
	ordered.push(...fresh);
	const latest = new Map<string, Message>();
	for (const message of ordered) {
		latest.delete(message.id);
		latest.set(message.id, message);
	}
	return [...latest.values()];
}
