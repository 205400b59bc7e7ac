import { describe, expect, it } from 'vitest';
import { applyServerMessages, createConfirmed, findByClientId, lastSeq } from '../../../src/lib/chat/confirmed.js';
import { buildView } from '../../../src/lib/chat/view.js';
import type { ViewMessage } from '../../../src/lib/chat/view.js';
import type { QueueItem } from '../../../src/lib/outbox/core/queue-item.js';
import { item, message, ME, OTHER } from '../outbox/fixtures.js';

const send = (id: string, body: string, extra: Partial<QueueItem> = {}) => item({ id, type: 'send_message', payload: { body }, ...extra });
const edit = (id: string, target: string, body: string, baseVersion: number, extra: Partial<QueueItem> = {}) =>
	item({ id, type: 'edit_message', payload: { id: target, body, base_version: baseVersion }, ...extra });
const del = (id: string, target: string, baseVersion: number, extra: Partial<QueueItem> = {}) =>
	item({ id, type: 'delete_message', payload: { id: target, base_version: baseVersion }, ...extra });
const failed = (reason: 'invalid' | 'forbidden' | 'conflict' | 'internal'): Partial<QueueItem> => ({ status: 'failed', lastError: { reason, at: 1 } });

const rows = (view: readonly ViewMessage[]) => view.map((r) => `${r.status}:${r.body}${r.deleted ? ' (deleted)' : ''}`);

describe('confirmed messages', () => {
	it('keeps messages sorted by seq whatever order they arrive in', () => {
		const c = createConfirmed([message({ seq: 3 }), message({ seq: 1 })]);
		applyServerMessages(c, [message({ seq: 2 }), message({ seq: 5 })]);
		expect(c.order.map((m) => m.seq)).toEqual([1, 2, 3, 5]);
		expect(lastSeq(c)).toBe(5);
	});

	it('never lets an older version overwrite a newer one (reordered pushes)', () => {
		const c = createConfirmed([message({ seq: 1, body: 'v3', version: 3 })]);
		const changed = applyServerMessages(c, [message({ seq: 1, body: 'v2', version: 2 })]);
		expect(changed).toEqual([]);
		expect(c.byId.get('m1')?.body).toBe('v3');
		expect(applyServerMessages(c, [message({ seq: 1, body: 'v4', version: 4 })])).toEqual(['m1']);
		expect(c.order[0]?.body).toBe('v4');
	});

	it('keeps the held object for a duplicate of the same version', () => {
		const first = message({ seq: 1 });
		const c = createConfirmed([first]);
		const version = c.version;
		applyServerMessages(c, [{ ...first }]);
		expect(c.byId.get('m1')).toBe(first);
		expect(c.version).toBe(version);
	});

	it('finds a confirmed message by client_id only for its own author', () => {
		const c = createConfirmed([message({ seq: 1, client_id: 'same', author: OTHER })]);
		expect(findByClientId(c, 'same', ME.id)).toBeUndefined();
		expect(findByClientId(c, 'same', OTHER.id)?.id).toBe('m1');
	});
});

describe('optimistic view', () => {
	it('shows confirmed messages by seq, then pending sends by creation', () => {
		const c = createConfirmed([message({ seq: 2, body: 'b' }), message({ seq: 1, body: 'a' })]);
		const view = buildView(c, [send('p2', 'later', { createdAt: 20 }), send('p1', 'sooner', { createdAt: 10 })], { user: ME });
		expect(rows(view)).toEqual(['sent:a', 'sent:b', 'pending:sooner', 'pending:later']);
		expect(view[2]).toMatchObject({ id: null, seq: null, clientId: 'p1', author: ME, key: 'u1/p1' });
	});

	it('shows a message once when the confirmed one arrives before the queue item is removed', () => {
		const c = createConfirmed();
		const pending = send('p1', 'hello');
		const before = buildView(c, [pending], { user: ME });
		applyServerMessages(c, [message({ seq: 7, client_id: 'p1', body: 'hello' })]);
		const after = buildView(c, [{ ...pending, status: 'sending' }], { user: ME, previous: before });
		expect(rows(after)).toEqual(['sent:hello']);
		expect(after[0]).toMatchObject({ key: before[0]?.key, seq: 7, id: 'm7' });
	});

	it('does not take another author\'s message with the same client_id for ours', () => {
		const c = createConfirmed([message({ seq: 1, client_id: 'p1', author: OTHER, body: 'theirs' })]);
		expect(rows(buildView(c, [send('p1', 'mine')], { user: ME }))).toEqual(['sent:theirs', 'pending:mine']);
	});

	it('overlays a pending edit and a pending delete on their targets', () => {
		const c = createConfirmed([message({ seq: 1, body: 'old' }), message({ seq: 2, body: 'doomed' })]);
		const view = buildView(c, [edit('e1', 'm1', 'new', 1), del('d1', 'm2', 1)], { user: ME });
		expect(rows(view)).toEqual(['pending:new', 'pending:doomed (deleted)']);
		expect(view[0]?.item?.id).toBe('e1');
		expect(rows(buildView(c, [del('d1', 'm2', 1)], { user: ME, hideDeleted: true }))).toEqual(['sent:old']);
	});

	it('drops an edit overlay once the server version passes its base_version (server state wins)', () => {
		const c = createConfirmed([message({ seq: 1, body: 'edited by server', version: 2 })]);
		expect(rows(buildView(c, [edit('e1', 'm1', 'mine', 1)], { user: ME }))).toEqual(['sent:edited by server']);
	});

	it('shows an invalid send as failed with its text and reason', () => {
		const view = buildView(createConfirmed(), [send('p1', 'too long', failed('invalid'))], { user: ME });
		expect(rows(view)).toEqual(['failed:too long']);
		expect(view[0]?.error?.reason).toBe('invalid');
	});

	it('makes a rolled-back action disappear from the view while the item keeps its text', () => {
		const c = createConfirmed([message({ seq: 1, body: 'original' })]);
		const refusedSend = send('p1', 'secret plan', failed('forbidden'));
		const refusedEdit = edit('e1', 'm1', 'rewrite', 1, failed('forbidden'));
		const view = buildView(c, [refusedSend, refusedEdit], { user: ME });
		expect(rows(view)).toEqual(['sent:original']);
		expect(view[0]?.item).toBeNull();
		expect(refusedSend.payload.body).toBe('secret plan');
	});

	it('marks a conflicted edit failed over the fresh server state', () => {
		const c = createConfirmed([message({ seq: 1, body: 'theirs now', version: 3 })]);
		const view = buildView(c, [edit('e1', 'm1', 'mine', 1, failed('conflict'))], { user: ME });
		expect(rows(view)).toEqual(['failed:theirs now']);
		expect(view[0]?.error?.reason).toBe('conflict');
		expect(view[0]?.item?.payload.body).toBe('mine');
	});

	it('keeps row objects, and the array, when nothing changed', () => {
		const c = createConfirmed([message({ seq: 1 }), message({ seq: 2 })]);
		const items = [send('p1', 'x')];
		const first = buildView(c, items, { user: ME });
		const second = buildView(c, items, { user: ME, previous: first });
		expect(second).toBe(first);
		applyServerMessages(c, [message({ seq: 2, body: 'changed', version: 2 })]);
		const third = buildView(c, items, { user: ME, previous: second });
		expect(third).not.toBe(second);
		expect(third[0]).toBe(first[0]);
		expect(third[1]).not.toBe(first[1]);
		expect(third[2]).toBe(first[2]);
	});

	it('keeps every row object of a 10,000-message room when an older page is prepended, and when an overlay comes and goes', () => {
		const c = createConfirmed(Array.from({ length: 10_000 }, (_, i) => message({ seq: 51 + i })));
		const first = buildView(c, [], { user: ME });
		applyServerMessages(c, Array.from({ length: 50 }, (_, i) => message({ seq: 1 + i })));
		const second = buildView(c, [], { user: ME, previous: first });
		expect(second).toHaveLength(10_050);
		expect(second.slice(50).every((row, i) => row === first[i])).toBe(true);
		// An edit overlaid on one row: a new object for it only; gone again: its old object is back.
		const edited = buildView(c, [edit('e1', 'm60', 'new', 1)], { user: ME, previous: second });
		expect(edited[59]).not.toBe(second[59]);
		expect(edited[59]?.body).toBe('new');
		expect(edited.filter((row, i) => row !== second[i])).toHaveLength(1);
		const back = buildView(c, [], { user: ME, previous: edited });
		expect(back[59]).toBe(second[59]);
		expect(back.filter((row, i) => row !== second[i])).toHaveLength(0);
	});

	it('keeps the row key stable from pending to sent (no remount, no flicker)', () => {
		const c = createConfirmed();
		const pending = buildView(c, [send('p1', 'hi')], { user: ME });
		applyServerMessages(c, [message({ seq: 1, client_id: 'p1', body: 'hi' })]);
		const sent = buildView(c, [], { user: ME, previous: pending });
		expect(sent.map((r) => r.key)).toEqual(pending.map((r) => r.key));
		expect(sent[0]?.status).toBe('sent');
	});
});
