import { describe, expect, it } from 'vitest';
import type { Message } from '../../src/lib/protocol/index.js';
import { changedInOrder, pushForOutcome } from '../../src/lib/server/chat/pushes.js';
import type { ActionResult, ApplyOutcome } from '../../src/lib/server/store/port.js';

const at = '2026-01-01T00:00:00.000Z';
const msg = (id: string, version = 1): Message => ({
	id,
	client_id: `c${id}v${version}`,
	room: 'r',
	author: { id: 'u', name: 'U' },
	body: `${id}@${version}`,
	seq: Number(id.replace(/\D/g, '')) || 1,
	version,
	deleted: false,
	inserted_at: at,
	updated_at: at
});
const ok = (message: Message): ActionResult => ({ client_id: message.client_id, status: 'ok', message });
const outcome = (results: ActionResult[], created: Message[], updated: Message[]): ApplyOutcome => ({ results, created, updated });

describe('pushForOutcome', () => {
	it('pushes nothing when no message changed (mark_read, replays, refusals)', () => {
		const replay = ok(msg('1'));
		expect(pushForOutcome(outcome([], [], []))).toBeNull();
		expect(pushForOutcome(outcome([replay, { client_id: 'r', status: 'ok', unread_count: 0 }], [], []))).toBeNull();
		expect(pushForOutcome(outcome([{ client_id: 'x', status: 'error', reason: 'conflict', message: 'stale' }], [], []))).toBeNull();
	});

	it('one created message is new_message; one updated message is message_updated', () => {
		const created = msg('1');
		expect(pushForOutcome(outcome([ok(created)], [created], []))).toEqual({ event: 'new_message', payload: { message: created } });
		const updated = msg('1', 2);
		expect(pushForOutcome(outcome([ok(updated)], [], [updated]))).toEqual({ event: 'message_updated', payload: { message: updated } });
	});

	it('one message edited twice is still one message_updated, in its latest state', () => {
		const v2 = msg('1', 2);
		const v3 = msg('1', 3);
		expect(pushForOutcome(outcome([ok(v2), ok(v3)], [], [v2, v3]))).toEqual({ event: 'message_updated', payload: { message: v3 } });
	});

	it('several messages are one changes push, each once at its last change, replays left out', () => {
		const a = msg('1');
		const b = msg('2');
		const a2 = msg('1', 2);
		const c = msg('3');
		const replayOfOld = ok(msg('9'));
		const results = [ok(a), replayOfOld, ok(b), ok(a2), ok(c)];
		expect(pushForOutcome(outcome(results, [a, b, c], [a2]))).toEqual({ event: 'changes', payload: { messages: [b, a2, c] } });
	});

	it('interleaves creations and updates by the order applied, not by list', () => {
		const old = msg('5', 2);
		const fresh = msg('6');
		expect(changedInOrder(outcome([ok(old), ok(fresh)], [fresh], [old]))).toEqual([old, fresh]);
	});

	it('a store whose results are copies loses nothing: the changes follow in its own order', () => {
		const a = msg('1');
		const b = msg('2');
		const results = [ok({ ...a }), ok({ ...b })];
		expect(changedInOrder(outcome(results, [a, b], []))).toEqual([a, b]);
	});
});
