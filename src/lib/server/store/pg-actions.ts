/**
 * What each action does to the PostgreSQL database. The caller runs
 * `applyActions` inside one transaction on one client; nothing here opens or
 * commits one. Semantics mirror `sqlite-actions.ts` exactly.
 *
 * Concurrency: the room row is locked (`lockRoom`) before anything is
 * written, so the room's writers, in any process, run one after another. The
 * counters are then advanced in memory and written back once, before commit;
 * seq and change numbers are gap-free and become visible in order.
 *
 * Round trips, which bound a room's write rate while its lock is held: a run
 * of sends is decided in memory (ids were taken from the sequence before the
 * lock) and written as one statement; edits, deletes and mark_read first
 * write the pending sends, since they read what is in the room.
 */
import type { Action, Message, User } from '../../protocol/index.js';
import type { ActionResult, ApplyOutcome } from './port.js';
import { run, type MessageRow, type Queryable, type RoomCounters } from './pg-statements.js';

/** Message ids are the global row id in decimal; anything else names no message. */
const MESSAGE_ID_RE = /^[1-9][0-9]{0,15}$/;

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

/** A send decided in memory, written with the others of its run by `flushSends`. */
interface PendingSend {
	id: string;
	clientId: string;
	body: string;
	seq: number;
	at: string;
	change: number;
	result: string;
}

/** What one call needs besides the database: the room's counters and the sends not written yet. */
interface CallState {
	counters: RoomCounters;
	ids: string[];
	pending: PendingSend[];
}

export async function applyActions(db: Queryable, author: User, room: string, actions: Action[]): Promise<ApplyOutcome> {
	const sends = actions.filter((a) => a.type === 'send_message').length;
	const clientIds = [...new Set(actions.map((a) => a.client_id))];
	// Before the lock, to keep the locked stretch short. An outcome stored
	// after this read surfaces as an IdempotencyRace when we write ours.
	const prepared = await run<{ found: { client_id: string; result: ActionResult }[]; ids: string[] }>(db, 'prepareCall', [
		author.id,
		clientIds,
		sends
	]);
	const { found, ids } = prepared.rows[0]!;
	const stored = new Map(found.map((row) => [row.client_id, row.result]));
	const state: CallState = { counters: await lockRoom(db, room), ids, pending: [] };
	const before = { ...state.counters };

	const outcome: ApplyOutcome = { results: [], created: [], updated: [] };
	for (const action of actions) {
		const prior = stored.get(action.client_id);
		if (prior !== undefined) {
			outcome.results.push(structuredClone(prior));
			continue;
		}
		if (action.type !== 'send_message') await flushSends(db, author, room, state);
		const result = await applyOne(db, author, room, action, state, outcome);
		// `invalid` is about this payload, not a decision on the action, so it is not kept.
		if (result.status === 'ok' || result.reason === 'forbidden' || result.reason === 'conflict') {
			const text = JSON.stringify(result);
			if (action.type === 'send_message') state.pending.at(-1)!.result = text;
			else await storeAction(db, author, room, action, text);
			stored.set(action.client_id, JSON.parse(text) as ActionResult);
		}
		outcome.results.push(result);
	}
	await flushSends(db, author, room, state);
	const { last_seq, last_change } = state.counters;
	if (last_seq !== before.last_seq || last_change !== before.last_change) {
		await run(db, 'saveCounters', [room, last_seq, last_change, author.id, outcome.created.length > 0]);
	}
	return outcome;
}

/** Write the sends decided so far, messages and idempotency records in one statement. */
async function flushSends(db: Queryable, author: User, room: string, state: CallState): Promise<void> {
	const run_ = state.pending.splice(0);
	if (run_.length === 0) return;
	const column = <K extends keyof PendingSend>(key: K) => run_.map((p) => p[key]);
	const { rowCount } = await run(db, 'insertSends', [
		room,
		author.id,
		column('id'),
		column('clientId'),
		column('body'),
		column('seq'),
		column('at'),
		column('change'),
		column('result')
	]);
	if (rowCount !== run_.length) throw new IdempotencyRace(run_.map((p) => p.clientId).join(', '));
}

async function storeAction(db: Queryable, author: User, room: string, action: Action, result: string): Promise<void> {
	const { rowCount } = await run(db, 'insertAction', [author.id, action.client_id, room, action.type, result, now()]);
	if (rowCount === 0) throw new IdempotencyRace(action.client_id);
}

/** Create the room when missing, then lock its row until commit; returns its counters. */
async function lockRoom(db: Queryable, room: string): Promise<RoomCounters> {
	const locked = await run<RoomCounters>(db, 'lockRoom', [room]);
	if (locked.rows[0]) return locked.rows[0];
	await run(db, 'ensureRoom', [room, now()]);
	return (await run<RoomCounters>(db, 'lockRoom', [room])).rows[0]!;
}

async function applyOne(
	db: Queryable,
	author: User,
	room: string,
	action: Action,
	state: CallState,
	outcome: ApplyOutcome
): Promise<ActionResult> {
	const client_id = action.client_id;
	const counters = state.counters;
	switch (action.type) {
		case 'send_message': {
			// Decided here, written by the next flushSends: a run of sends costs one statement.
			const at = now();
			const message: Message = {
				id: state.ids.shift()!,
				client_id,
				room,
				author: { id: author.id, name: author.name },
				body: action.payload.body,
				seq: ++counters.last_seq,
				version: 1,
				deleted: false,
				inserted_at: at,
				updated_at: at
			};
			const change = ++counters.last_change;
			state.pending.push({ id: message.id, clientId: client_id, body: message.body, seq: message.seq, at, change, result: '' });
			outcome.created.push(message);
			return { client_id, status: 'ok', message };
		}
		case 'edit_message':
		case 'delete_message': {
			const { id, base_version } = action.payload;
			const row = MESSAGE_ID_RE.test(id) ? (await run<MessageRow>(db, 'messageInRoom', [id, room])).rows[0] : undefined;
			if (!row) return { client_id, status: 'error', reason: 'invalid', message: `no message ${id} in this room` };
			const refusal = refuseChange(row, author, base_version);
			if (refusal) return { client_id, ...refusal };
			// The room lock we hold covers this message too: no one else can change it before we commit.
			const change = ++counters.last_change;
			const at = now();
			const isEdit = action.type === 'edit_message';
			const body = isEdit ? action.payload.body : '';
			if (isEdit) await run(db, 'editMessage', [row.id, body, at, change]);
			else await run(db, 'deleteMessage', [row.id, at, change]);
			const message: Message = {
				id: String(row.id),
				client_id: row.client_id,
				room: row.room,
				author: { id: row.author_id, name: row.author_name },
				body,
				seq: row.seq,
				version: row.version + 1,
				deleted: !isEdit,
				inserted_at: row.inserted_at.toISOString(),
				updated_at: at
			};
			outcome.updated.push(message);
			return { client_id, status: 'ok', message };
		}
		case 'mark_read': {
			// A marker above the room's last seq would hide messages not sent yet.
			await run(db, 'markRead', [author.id, room, Math.min(action.payload.seq, counters.last_seq)]);
			const { rows } = await run<{ n: number }>(db, 'unreadCount', [room, author.id]);
			return { client_id, status: 'ok', unread_count: rows[0]!.n };
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
	if (row.deleted) {
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
