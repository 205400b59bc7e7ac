import { describe, expect, it } from 'vitest';
import {
	BACK_ONLINE,
	NO_CONNECTION_MEMORY,
	actionsSentence,
	arrivalsSentence,
	connectionStep,
	newArrivals,
	newestSeq,
	ownRowChanges,
	type ConnectionKind,
	type ConnectionMemory
} from '../../../src/lib/components/announcements.js';
import { failureReason, failureText } from '../../../src/lib/components/failure-text.js';
import type { ViewMessage } from '../../../src/lib/chat/index.js';
import type { ItemError, QueueItem } from '../../../src/lib/outbox/core/queue-item.js';

/** Runs the connection announcer over a sequence of banner states; returns what was said at each step. */
function speak(kinds: ConnectionKind[], wasDisconnected = false, start: ConnectionMemory = NO_CONNECTION_MEMORY): (string | null)[] {
	let memory = start;
	return kinds.map((kind) => {
		const step = connectionStep(memory, kind, kind ? `<${kind}>` : '', wasDisconnected);
		memory = step.memory;
		return step.say;
	});
}

describe('connection announcements', () => {
	it('says nothing for the first connect of a page load', () => {
		expect(speak(['reconnecting', null])).toEqual([null, null]);
		expect(speak([null])).toEqual([null]);
	});

	it('speaks a loss after a connection was up, and "Back online." when it returns', () => {
		expect(speak(['reconnecting', null, 'offline', null])).toEqual([null, null, '<offline>', BACK_ONLINE]);
		expect(speak([null, 'reconnecting', null])).toEqual([null, '<reconnecting>', BACK_ONLINE]);
	});

	it('speaks every change during an outage, once per change', () => {
		expect(speak([null, 'offline', 'offline', 'reconnecting', 'reconnecting', null])).toEqual([
			null,
			'<offline>',
			null,
			'<reconnecting>',
			null,
			BACK_ONLINE
		]);
	});

	it('counts starting offline or signed out as an outage (silent at start, "Back online." after)', () => {
		expect(speak(['offline', 'reconnecting', null])).toEqual([null, '<reconnecting>', BACK_ONLINE]);
		expect(speak(['signed-out', null])).toEqual([null, BACK_ONLINE]);
		// Never connected, then the browser goes offline: that is news.
		expect(speak(['reconnecting', 'offline', null])).toEqual([null, '<offline>', BACK_ONLINE]);
	});

	it('a banner that starts mid-outage (wasDisconnected) still says "Back online."', () => {
		expect(speak(['reconnecting', null], true)).toEqual([null, BACK_ONLINE]);
		expect(speak(['reconnecting', null], false)).toEqual([null, null]);
	});
});

const ME = { id: 'u1ann', name: 'Ann' };
const BOB = { id: 'u2bob', name: 'Bob' };

function row(over: Partial<ViewMessage> & Pick<ViewMessage, 'key'>): ViewMessage {
	return {
		clientId: over.key,
		id: null,
		seq: null,
		author: ME,
		body: 'hello',
		deleted: false,
		status: 'sent',
		error: null,
		message: null,
		item: null,
		...over
	};
}
const item = (type: string) => ({ type }) as unknown as QueueItem;
const tooLong: ItemError = { reason: 'invalid', message: 'body: body is longer than 4000 characters', at: 1 };

describe('own action announcements', () => {
	it('learns the rows on the first look without announcing them', () => {
		const { changes, seen } = ownRowChanges(null, [row({ key: 'a', status: 'failed', error: tooLong }), row({ key: 'b', status: 'pending' })], ME.id);
		expect(changes).toEqual({ sent: [], failed: [] });
		expect([...seen.keys()]).toEqual(['a', 'b']);
	});

	it('reports pending -> sent with the action type, and pending -> failed with the error', () => {
		const first = ownRowChanges(null, [row({ key: 'a', status: 'pending', item: item('send_message') }), row({ key: 'b', status: 'pending', item: item('edit_message') })], ME.id);
		const next = ownRowChanges(
			first.seen,
			[row({ key: 'a', status: 'sent', seq: 1 }), row({ key: 'b', status: 'failed', error: tooLong, item: item('edit_message') })],
			ME.id
		);
		expect(next.changes).toEqual({ sent: ['send_message'], failed: [{ action: 'edit_message', error: tooLong }] });
	});

	it('reports a row that appears failed (refused before it was queued), and not one that stays failed', () => {
		const first = ownRowChanges(null, [], ME.id);
		const appeared = ownRowChanges(first.seen, [row({ key: 'x', status: 'failed', error: tooLong })], ME.id);
		expect(appeared.changes.failed).toHaveLength(1);
		const again = ownRowChanges(appeared.seen, [row({ key: 'x', status: 'failed', error: tooLong })], ME.id);
		expect(again.changes).toEqual({ sent: [], failed: [] });
	});

	it("ignores others' rows, older rows loaded as sent, and a retry (failed -> pending)", () => {
		const first = ownRowChanges(null, [row({ key: 'f', status: 'failed', error: tooLong })], ME.id);
		const next = ownRowChanges(
			first.seen,
			[row({ key: 'old', status: 'sent', seq: 1 }), row({ key: 'bob', author: BOB, status: 'sent', seq: 2 }), row({ key: 'f', status: 'pending' })],
			ME.id
		);
		expect(next.changes).toEqual({ sent: [], failed: [] });
		expect(next.seen.has('bob')).toBe(false);
	});

	it('words: "Sent", "Edit saved", "Deleted", "Sent 3 messages", "Failed: <why>", never the text', () => {
		expect(actionsSentence({ sent: ['send_message'], failed: [] })).toBe('Sent');
		expect(actionsSentence({ sent: ['edit_message'], failed: [] })).toBe('Edit saved');
		expect(actionsSentence({ sent: ['delete_message'], failed: [] })).toBe('Deleted');
		expect(actionsSentence({ sent: ['send_message', 'send_message', 'send_message'], failed: [] })).toBe('Sent 3 messages');
		expect(actionsSentence({ sent: ['send_message', 'edit_message'], failed: [] })).toBe('Sent 2 changes');
		expect(actionsSentence({ sent: [], failed: [{ action: 'send_message', error: tooLong }] })).toBe(
			'Failed: body is longer than 4000 characters'
		);
		expect(
			actionsSentence({
				sent: ['send_message'],
				failed: [
					{ action: 'send_message', error: { reason: 'timeout', at: 1 } },
					{ action: 'send_message', error: tooLong }
				]
			})
		).toBe("Sent. 2 failed: the server didn't answer in time");
		expect(actionsSentence({ sent: [], failed: [] })).toBe('');
	});

	it('the why matches the row text without its lead', () => {
		expect(failureText(tooLong)).toBe(`Not sent: ${failureReason(tooLong)}`);
		expect(failureText({ reason: 'conflict', at: 1 }, 'edit_message')).toBe('Not applied: the message changed or was deleted meanwhile');
		expect(failureText(null, 'delete_message')).toBe('Not deleted.');
		expect(failureReason({ reason: 'invalid', at: 1 })).toBe('the message was refused');
	});
});

describe("others' new messages", () => {
	const view = [
		row({ key: 'b1', author: BOB, seq: 1, body: 'one' }),
		row({ key: 'a2', seq: 2, body: 'mine' }),
		row({ key: 'b3', author: BOB, seq: 3, body: 'three' }),
		row({ key: 'p', status: 'pending', body: 'pending of mine' })
	];

	it('finds others\' confirmed rows newer than the last seen seq, oldest first, skipping own and pending rows', () => {
		expect(newestSeq(view)).toBe(3);
		expect(newArrivals(view, ME.id, 3)).toEqual({ rows: [], newest: 3 });
		const { rows, newest } = newArrivals(view, ME.id, 0);
		expect(rows.map((r) => r.key)).toEqual(['b1', 'b3']);
		expect(newest).toBe(3);
		expect(newArrivals(view, ME.id, 2).rows.map((r) => r.key)).toEqual(['b3']);
		expect(newestSeq([])).toBe(0);
	});

	it('reads the author and at most 200 characters', () => {
		expect(arrivalsSentence([view[0]!])).toBe('Bob: one');
		expect(arrivalsSentence([view[0]!, view[2]!])).toBe('2 new messages. Last, Bob: three');
		const long = arrivalsSentence([row({ key: 'l', author: BOB, seq: 9, body: 'y'.repeat(4001) })]);
		expect(long).toBe(`Bob: ${'y'.repeat(200)}…`);
		expect(arrivalsSentence([row({ key: 'd', author: BOB, seq: 9, deleted: true, body: '' })])).toBe('Bob: Message deleted');
		expect(arrivalsSentence([])).toBe('');
	});
});
