/**
 * The SQLite answers to the action flow's queries (`apply-actions.ts`). They
 * run inside the store's `BEGIN IMMEDIATE` transaction, which already holds
 * the database's write lock, so `lockRoom` only has to read. A sent message
 * is its own idempotency record: `prepare` finds it by (author, client_id),
 * and its first edit or deletion copies its reply to `actions` first.
 */
import type { ActionResult } from './port.js';
import type { ActionQueries } from './queries.js';
import { EMPTY_ROOM } from './rules.js';
import { toMessage, type Statements } from './sqlite-statements.js';

export function sqliteActionQueries(st: Statements): ActionQueries {
	return {
		*prepare(authorId, clientIds) {
			const stored = new Map<string, ActionResult>();
			for (const clientId of clientIds) {
				const result = st.findOutcome.get(authorId, clientId, authorId, clientId);
				if (result != null) stored.set(clientId, JSON.parse(result) as ActionResult);
			}
			return stored;
		},
		*lockRoom(room, at) {
			// The write lock is held already: read first, create only a missing room.
			const counters = st.roomCounters.get(room);
			if (counters) return counters;
			st.ensureRoom.run(room, at);
			return st.roomCounters.get(room) ?? EMPTY_ROOM;
		},
		*uploadsOf(ownerId, uploadIds) {
			return st.uploadsOf.all(ownerId, JSON.stringify(uploadIds));
		},
		*insertMessage(m) {
			const attachments = m.attachments.length === 0 ? '[]' : JSON.stringify(m.attachments);
			const { lastInsertRowid } = st.insertMessage.run(m.room, m.authorId, m.clientId, m.body, m.seq, m.at, m.at, m.change, attachments);
			for (const file of m.attachments) st.nameUpload.run(file.id, lastInsertRowid);
			return String(lastInsertRowid);
		},
		*messageInRoom(id, room) {
			const row = st.messageInRoom.get(Number(id), room);
			return row ? toMessage(row) : null;
		},
		*updateMessage(id, change) {
			// A message's first change: its send's reply moves to `actions` before the row changes.
			st.keepSendReply.run(change.at, Number(id));
			st.updateMessage.run({ id: Number(id), body: change.body, deleted: change.deleted ? 1 : 0, now: change.at, change: change.change });
			if (change.deleted) st.dropNamedUploads.run(Number(id));
		},
		*markRead(userId, room, seq) {
			st.markRead.run(userId, room, seq);
		},
		*unreadCount(room, userId) {
			return st.unreadCount.get({ room, userId })!;
		},
		*keepOutcome(authorId, room, type, clientId, result, at) {
			// A send's record is its message row (findOutcome).
			if (type === 'send_message') return;
			st.insertAction.run(authorId, clientId, room, type, JSON.stringify(result), at);
		},
		*finish(room, counters, moved, memberId) {
			if (moved) st.saveCounters.run(counters.last_seq, counters.last_change, room);
			if (memberId !== null) st.joinRoom.run(memberId, room);
		}
	};
}
