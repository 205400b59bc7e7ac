/**
 * What each action does to the SQLite database. The caller runs `applyActions`
 * inside one write transaction; nothing here opens or commits one.
 */
import type { Action, Message, User } from '../../protocol/index.js';
import type { ActionResult, ApplyOutcome } from './port.js';
import { toMessage, type MessageRow, type Statements } from './sqlite-statements.js';

/** Message ids are the global row id in decimal; anything else names no message. */
const MESSAGE_ID_RE = /^[1-9][0-9]{0,15}$/;

export function applyActions(st: Statements, author: User, room: string, actions: Action[]): ApplyOutcome {
	const outcome: ApplyOutcome = { results: [], created: [], updated: [] };
	for (const action of actions) {
		const stored = st.findAction.get(author.id, action.client_id);
		if (stored !== undefined) {
			outcome.results.push(JSON.parse(stored) as ActionResult);
			continue;
		}
		const result = applyOne(st, author, room, action, outcome);
		// `invalid` is about this payload, not a decision on the action, so it is not kept.
		if (result.status === 'ok' || result.reason === 'forbidden' || result.reason === 'conflict') {
			st.insertAction.run(author.id, action.client_id, room, action.type, JSON.stringify(result), now());
		}
		outcome.results.push(result);
	}
	return outcome;
}

function applyOne(st: Statements, author: User, room: string, action: Action, outcome: ApplyOutcome): ActionResult {
	const client_id = action.client_id;
	switch (action.type) {
		case 'send_message': {
			st.bumpSeqAndChange.run(room);
			const counters = st.roomCounters.get(room)!;
			const at = now();
			const { lastInsertRowid } = st.insertMessage.run({
				room,
				authorId: author.id,
				clientId: client_id,
				body: action.payload.body,
				seq: counters.last_seq,
				now: at,
				change: counters.last_change
			});
			if (outcome.created.length === 0) st.joinRoom.run(author.id, room);
			// Built from what was just written (no read-back): the hot path of the server.
			const message: Message = {
				id: String(lastInsertRowid),
				client_id,
				room,
				author: { id: author.id, name: author.name },
				body: action.payload.body,
				seq: counters.last_seq,
				version: 1,
				deleted: false,
				inserted_at: at,
				updated_at: at
			};
			outcome.created.push(message);
			return { client_id, status: 'ok', message };
		}
		case 'edit_message':
		case 'delete_message': {
			const { id, base_version } = action.payload;
			const row = MESSAGE_ID_RE.test(id) ? st.messageInRoom.get(Number(id), room) : undefined;
			if (!row) return { client_id, status: 'error', reason: 'invalid', message: `no message ${id} in this room` };
			const refusal = refuseChange(row, author, base_version);
			if (refusal) return { client_id, ...refusal };
			st.bumpChange.run(room);
			const change = st.roomCounters.get(room)!.last_change;
			if (action.type === 'edit_message') {
				st.editMessage.run({ id: row.id, body: action.payload.body, now: now(), change });
			} else {
				st.deleteMessage.run({ id: row.id, now: now(), change });
			}
			const message = toMessage(st.messageById.get(row.id)!);
			outcome.updated.push(message);
			return { client_id, status: 'ok', message };
		}
		case 'mark_read': {
			const { last_seq } = st.roomCounters.get(room)!;
			// A marker above the room's last seq would hide messages not sent yet.
			st.markRead.run(author.id, room, Math.min(action.payload.seq, last_seq));
			return { client_id, status: 'ok', unread_count: st.unreadCount.get({ room, userId: author.id })! };
		}
		default: {
			const unknown: { type?: unknown } = action;
			throw new TypeError(`unknown action type ${JSON.stringify(unknown.type)}; parse actions with parseAction first`);
		}
	}
}

function refuseChange(
	row: MessageRow,
	author: User,
	baseVersion: number
): { status: 'error'; reason: 'forbidden' | 'conflict'; message: string } | null {
	if (row.author_id !== author.id) {
		return { status: 'error', reason: 'forbidden', message: 'only the author may change a message' };
	}
	if (row.deleted === 1) {
		return { status: 'error', reason: 'conflict', message: `message ${row.id} was deleted` };
	}
	if (row.version !== baseVersion) {
		return {
			status: 'error',
			reason: 'conflict',
			message: `base_version ${baseVersion} is stale; message ${row.id} is at version ${row.version}`
		};
	}
	return null;
}

function now(): string {
	return new Date().toISOString();
}
