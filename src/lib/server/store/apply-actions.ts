/**
 * What each action does, once for every driver. The driver runs the flow in
 * one write transaction (`StoreDriver.write`); nothing here opens or commits.
 *
 * - Idempotency: `(author, client_id)` keeps its first outcome, and a replay
 *   (also later in the same call) returns that outcome and changes nothing.
 *   `ok`, `forbidden` and `conflict` are kept; `invalid` is about the payload,
 *   not a decision on the action, so it is not (the client_id stays free).
 * - Files: a send may name only the sender's own uploads (else `invalid`);
 *   a deletion drops the message's files with its body.
 * - Counters: the room is locked first, its `seq` and change numbers advance
 *   in memory and are saved once at the end, so they are gap-free.
 */
import type { Action, Attachment, Message, User } from '../../protocol/index.js';
import type { ActionResult, ApplyOutcome } from './port.js';
import type { ActionQueries, RoomCounters } from './queries.js';
import { MESSAGE_ID_RE, refuseChange } from './rules.js';
import type { Step } from './steps.js';

/** Apply validated actions by one author in one room; results in the order given. */
export function* applyActions(q: ActionQueries, author: User, room: string, actions: Action[]): Step<ApplyOutcome> {
	const sends = actions.filter((a) => a.type === 'send_message').length;
	const clientIds = [...new Set(actions.map((a) => a.client_id))];
	const stored = yield* q.prepare(author.id, clientIds, sends);
	// Outcomes kept by this call, as their text: parsed only if replayed later in the call.
	const keptNow = new Map<string, string>();
	const counters = { ...(yield* q.lockRoom(room, now())) };
	const before = { ...counters };

	const outcome: ApplyOutcome = { results: [], created: [], updated: [] };
	for (const action of actions) {
		const prior = stored.get(action.client_id);
		if (prior !== undefined) {
			outcome.results.push(structuredClone(prior));
			continue;
		}
		const priorNow = keptNow.get(action.client_id);
		if (priorNow !== undefined) {
			outcome.results.push(JSON.parse(priorNow) as ActionResult);
			continue;
		}
		const result = yield* applyOne(q, author, room, action, counters, outcome);
		if (isKept(result)) {
			const text = JSON.stringify(result);
			yield* q.keepOutcome(author.id, room, action.type, action.client_id, text, now());
			keptNow.set(action.client_id, text);
		}
		outcome.results.push(result);
	}
	const moved = counters.last_seq !== before.last_seq || counters.last_change !== before.last_change;
	// Posting makes the author a member: the room shows in their list.
	yield* q.finish(room, counters, moved, outcome.created.length > 0 ? author.id : null);
	return outcome;
}

/** Whether an outcome is a decision on the action, kept for replays. */
function isKept(result: ActionResult): boolean {
	return result.status === 'ok' || result.reason === 'forbidden' || result.reason === 'conflict';
}

function* applyOne(
	q: ActionQueries,
	author: User,
	room: string,
	action: Action,
	counters: RoomCounters,
	outcome: ApplyOutcome
): Step<ActionResult> {
	const client_id = action.client_id;
	switch (action.type) {
		case 'send_message': {
			const files = yield* ownFiles(q, author, action.payload.attachments ?? []);
			if ('missing' in files) {
				return { client_id, status: 'error', reason: 'invalid', message: `attachment ${files.missing} is not one of your uploads` };
			}
			const attachments = files.list;
			const at = now();
			const seq = ++counters.last_seq;
			const change = ++counters.last_change;
			const body = action.payload.body;
			const id = yield* q.insertMessage({ room, authorId: author.id, clientId: client_id, body, seq, change, at, attachments });
			const message: Message = {
				id,
				client_id,
				room,
				author: { id: author.id, name: author.name },
				body,
				seq,
				version: 1,
				deleted: false,
				inserted_at: at,
				updated_at: at,
				attachments
			};
			outcome.created.push(message);
			return { client_id, status: 'ok', message };
		}
		case 'edit_message':
		case 'delete_message': {
			const { id, base_version } = action.payload;
			const found = MESSAGE_ID_RE.test(id) ? yield* q.messageInRoom(id, room) : null;
			if (!found) return { client_id, status: 'error', reason: 'invalid', message: `no message ${id} in this room` };
			const refusal = refuseChange(found, author, base_version);
			if (refusal) return { client_id, ...refusal };
			// The room lock covers this message too: no one else changes it before we commit.
			const isEdit = action.type === 'edit_message';
			const change = { body: isEdit ? action.payload.body : '', deleted: !isEdit, at: now(), change: ++counters.last_change };
			yield* q.updateMessage(found.id, change);
			const message: Message = {
				...found,
				body: change.body,
				version: found.version + 1,
				deleted: change.deleted,
				updated_at: change.at,
				attachments: change.deleted ? [] : (found.attachments ?? [])
			};
			outcome.updated.push(message);
			return { client_id, status: 'ok', message };
		}
		case 'mark_read': {
			// A marker above the room's last seq would hide messages not sent yet.
			yield* q.markRead(author.id, room, Math.min(action.payload.seq, counters.last_seq));
			return { client_id, status: 'ok', unread_count: yield* q.unreadCount(room, author.id) };
		}
		default: {
			const unknown: { type?: unknown } = action;
			throw new TypeError(`unknown action type ${JSON.stringify(unknown.type)}; parse actions with parseAction first`);
		}
	}
}

/** The sender's uploads named by `ids`, in that order; or the first id that is not one of them. */
function* ownFiles(q: ActionQueries, author: User, ids: string[]): Step<{ list: Attachment[] } | { missing: string }> {
	if (ids.length === 0) return { list: [] };
	const found = new Map((yield* q.uploadsOf(author.id, ids)).map((file) => [file.id, file]));
	const missing = ids.find((id) => !found.has(id));
	return missing === undefined ? { list: ids.map((id) => found.get(id)!) } : { missing };
}

function now(): string {
	return new Date().toISOString();
}
