/**
 * The PostgreSQL answers to the action flow's queries (`apply-actions.ts`),
 * on one client inside one transaction.
 *
 * Concurrency: the room row is locked (`lockRoom`) before anything is
 * written, so the room's writers, in any process, run one after another.
 *
 * Round trips, which bound a room's write rate while its lock is held: the
 * stored outcomes and one message id per send come in one statement before
 * the lock (`prepare`); a run of sends is held in memory and written as one
 * statement, together with their idempotency records, when any other query
 * comes (they read what is in the room) or at `finish`.
 */
import type { Attachment } from '../../protocol/index.js';
import type { ActionResult } from './port.js';
import type { ActionQueries, NewMessage } from './queries.js';
import { run, toMessage, type MessageRow, type Queryable, type RoomCounters } from './pg-statements.js';
import { wait, type Step } from './steps.js';

/**
 * Another connection stored an outcome for one of these client_ids between
 * our read of stored outcomes and our write (two replays of one action racing,
 * in one room or two). The unique (author_id, client_id) key makes our insert
 * wait for theirs and then insert nothing; the caller rolls back and runs the
 * call again, which then finds and replays their outcome.
 */
export class IdempotencyRace extends Error {
	constructor(clientId: string) {
		super(`client_id ${JSON.stringify(clientId)} was stored by a concurrent transaction`);
		this.name = 'IdempotencyRace';
	}
}

/** A send held in memory until the run of sends is written; `result` is filled by `keepOutcome`. */
interface PendingSend extends NewMessage {
	id: string;
	result: string;
}

/** Queries for one call on one client (they hold the call's reserved ids and unwritten sends). */
export function pgActionQueries(db: Queryable): ActionQueries {
	let ids: string[] = [];
	let pending: PendingSend[] = [];

	/** Write the sends held so far, messages and idempotency records in one statement. */
	function* flushSends(): Step<void> {
		const sends = pending;
		pending = [];
		if (sends.length === 0) return;
		const column = <K extends keyof PendingSend>(key: K) => sends.map((p) => p[key]);
		const named = sends.flatMap((p) => p.attachments.map((file) => [p.id, file.id] as const));
		const { rowCount } = yield* wait(
			run(db, 'insertSends', [
				sends[0]!.room,
				sends[0]!.authorId,
				column('id'),
				column('clientId'),
				column('body'),
				column('seq'),
				column('at'),
				column('change'),
				column('result'),
				sends.map((p) => JSON.stringify(p.attachments)),
				named.map(([messageId]) => messageId),
				named.map(([, uploadId]) => uploadId)
			])
		);
		if (rowCount !== sends.length) throw new IdempotencyRace(sends.map((p) => p.clientId).join(', '));
	}

	return {
		*prepare(authorId, clientIds, sends) {
			// Before the lock, to keep the locked stretch short. An outcome stored
			// after this read surfaces as an IdempotencyRace when we write ours.
			type Prepared = { found: { client_id: string; result: ActionResult }[]; ids: string[] };
			const { rows } = yield* wait(run<Prepared>(db, 'prepareCall', [authorId, clientIds, sends]));
			ids = rows[0]!.ids;
			return new Map(rows[0]!.found.map((row) => [row.client_id, row.result]));
		},
		*lockRoom(room, at) {
			const locked = yield* wait(run<RoomCounters>(db, 'lockRoom', [room]));
			if (locked.rows[0]) return locked.rows[0];
			yield* wait(run(db, 'ensureRoom', [room, at]));
			return (yield* wait(run<RoomCounters>(db, 'lockRoom', [room]))).rows[0]!;
		},
		*uploadsOf(ownerId, uploadIds) {
			return (yield* wait(run<Attachment>(db, 'uploadsOf', [ownerId, uploadIds]))).rows;
		},
		*insertMessage(message) {
			const id = ids.shift();
			if (id === undefined) throw new TypeError('insertMessage: more sends than prepare() reserved ids for');
			pending.push({ ...message, id, result: '' });
			return id;
		},
		*messageInRoom(id, room) {
			yield* flushSends();
			const row = (yield* wait(run<MessageRow>(db, 'messageInRoom', [id, room]))).rows[0];
			return row ? toMessage(row) : null;
		},
		*updateMessage(id, change) {
			yield* wait(run(db, 'updateMessage', [id, change.body, change.deleted, change.at, change.change]));
		},
		*markRead(userId, room, seq) {
			yield* flushSends();
			yield* wait(run(db, 'markRead', [userId, room, seq]));
		},
		*unreadCount(room, userId) {
			yield* flushSends();
			return (yield* wait(run<{ n: number }>(db, 'unreadCount', [room, userId]))).rows[0]!.n;
		},
		*keepOutcome(authorId, room, type, clientId, result, at) {
			const send = pending.at(-1);
			if (send?.clientId === clientId) {
				send.result = JSON.stringify(result);
				return;
			}
			yield* flushSends();
			const { rowCount } = yield* wait(run(db, 'insertAction', [authorId, clientId, room, type, JSON.stringify(result), at]));
			if (rowCount === 0) throw new IdempotencyRace(clientId);
		},
		*finish(room, counters, moved, memberId) {
			yield* flushSends();
			if (moved) {
				yield* wait(run(db, 'saveCounters', [room, counters.last_seq, counters.last_change, memberId ?? '', memberId !== null]));
			}
		}
	};
}
