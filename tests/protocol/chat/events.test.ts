/**
 * Every event of the wire contract, every error reason, over the real server
 * and the official phoenix client.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { cid, collect, join, joinRoom, push, startServer, syncAll, until, type TestServer } from './harness.js';

let server: TestServer;
let alice: { token: string; user: { id: string; name: string } };
let bob: { token: string; user: { id: string; name: string } };

beforeAll(async () => {
	server = await startServer();
	alice = await server.signIn('Alice');
	bob = await server.signIn('Bob');
});
afterAll(() => server.close());

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

describe('send_message', () => {
	test("replies with the stored message and broadcasts new_message to the room's other sockets, the sender's other tabs included", async () => {
		const a1 = await joinRoom(server.connect(alice.token), 'send-1');
		const a2 = await joinRoom(server.connect(alice.token), 'send-1');
		const b = await joinRoom(server.connect(bob.token), 'send-1');
		const seenA1 = collect(a1, 'new_message');
		const seenA2 = collect(a2, 'new_message');
		const seenB = collect(b, 'new_message');

		const client_id = cid();
		const reply = await push(a1, 'send_message', { client_id, body: 'hello' });
		expect(reply.status).toBe('ok');
		const message = reply.response.message;
		expect(Object.keys(message).sort()).toEqual(
			['attachments', 'author', 'body', 'client_id', 'deleted', 'id', 'inserted_at', 'room', 'seq', 'updated_at', 'version'].sort()
		);
		expect(message.attachments).toEqual([]);
		expect(message).toMatchObject({
			client_id,
			room: 'send-1',
			author: { id: alice.user.id, name: 'Alice' },
			body: 'hello',
			seq: 1,
			version: 1,
			deleted: false
		});
		expect(typeof message.id).toBe('string');
		expect(message.inserted_at).toMatch(ISO);
		expect(message.updated_at).toMatch(ISO);

		await until(() => seenA2.length === 1 && seenB.length === 1, 3000, 'broadcasts');
		expect(seenB[0].message).toEqual(message);
		expect(seenA2[0].message).toEqual(message);
		// Bob answers; once a1 hears that, it would have heard its own push before it (one socket, in order).
		const answer = await push(b, 'send_message', { client_id: cid(), body: 'hi alice' });
		await until(() => seenA1.length === 1, 3000, "bob's answer on a1");
		expect(seenA1.map((p) => p.message)).toEqual([answer.response.message]);
	});

	test('the same client_id again returns the original reply and changes nothing', async () => {
		const a = await joinRoom(server.connect(alice.token), 'send-2');
		const b = await joinRoom(server.connect(bob.token), 'send-2');
		const seen = collect(b, 'new_message');
		const client_id = cid();
		const first = await push(a, 'send_message', { client_id, body: 'once' });
		const again = await push(a, 'send_message', { client_id, body: 'once' });
		const differentBody = await push(a, 'send_message', { client_id, body: 'twice?' });
		expect(again).toEqual(first);
		expect(differentBody).toEqual(first);
		const next = await push(a, 'send_message', { client_id: cid(), body: 'next' });
		expect(next.response.message.seq).toBe(first.response.message.seq + 1);
		await until(() => seen.length === 2, 3000, 'two broadcasts');
		await new Promise((r) => setTimeout(r, 100));
		expect(seen.map((p) => p.message.body)).toEqual(['once', 'next']);
		const { messages } = await syncAll(b);
		expect(messages.map((m: any) => m.body)).toEqual(['once', 'next']);
	});

	test('the same client_id from another author is another action', async () => {
		const a = await joinRoom(server.connect(alice.token), 'send-3');
		const b = await joinRoom(server.connect(bob.token), 'send-3');
		const client_id = cid();
		const fromA = await push(a, 'send_message', { client_id, body: 'from alice' });
		const fromB = await push(b, 'send_message', { client_id, body: 'from bob' });
		expect(fromB.status).toBe('ok');
		expect(fromB.response.message.id).not.toBe(fromA.response.message.id);
		expect(fromB.response.message.author.id).toBe(bob.user.id);
	});

	test.each([
		['an empty body', { body: '' }],
		['a whitespace body', { body: '   \n' }],
		['a 4,001-character body', { body: 'x'.repeat(4001) }],
		['a client-supplied author', { body: 'hi', author: { id: 'x', name: 'Mallory' } }],
		['a missing body', {}],
		['a non-string body', { body: 42 }]
	])('%s is invalid and the channel stays up', async (_what, extra) => {
		const a = await joinRoom(server.connect(alice.token), 'send-invalid');
		const reply = await push(a, 'send_message', { client_id: cid(), ...extra });
		expect(reply.status).toBe('error');
		expect(reply.response.reason).toBe('invalid');
		expect(typeof reply.response.message).toBe('string');
		const after = await push(a, 'send_message', { client_id: cid(), body: 'still here' });
		expect(after.status).toBe('ok');
	});

	test('a 4,000-character body and a 4,000-emoji body are accepted', async () => {
		const a = await joinRoom(server.connect(alice.token), 'send-limit');
		expect((await push(a, 'send_message', { client_id: cid(), body: 'y'.repeat(4000) })).status).toBe('ok');
		expect((await push(a, 'send_message', { client_id: cid(), body: '😀'.repeat(4000) })).status).toBe('ok');
		const over = await push(a, 'send_message', { client_id: cid(), body: '😀'.repeat(4001) });
		expect(over.response.reason).toBe('invalid');
	});

	test('a missing or malformed client_id is invalid', async () => {
		const a = await joinRoom(server.connect(alice.token), 'send-cid');
		expect((await push(a, 'send_message', { body: 'x' })).response.reason).toBe('invalid');
		expect((await push(a, 'send_message', { client_id: 'has space', body: 'x' })).response.reason).toBe('invalid');
		expect((await push(a, 'send_message', { client_id: 'x'.repeat(65), body: 'x' })).response.reason).toBe('invalid');
	});

	test('an unknown event is invalid and the socket and channel stay up', async () => {
		const socket = server.connect(alice.token);
		const a = await joinRoom(socket, 'send-unknown');
		const reply = await push(a, 'shout', { body: 'x' });
		expect(reply).toMatchObject({ status: 'error', response: { reason: 'invalid' } });
		expect(socket.isConnected()).toBe(true);
		expect((await push(a, 'send_message', { client_id: cid(), body: 'ok' })).status).toBe('ok');
	});
});

describe('edit_message and delete_message', () => {
	test('edit bumps the version, broadcasts message_updated and shows in sync', async () => {
		const a = await joinRoom(server.connect(alice.token), 'edit-1');
		const b = await joinRoom(server.connect(bob.token), 'edit-1');
		const updates = collect(b, 'message_updated');
		const sent = (await push(a, 'send_message', { client_id: cid(), body: 'draft' })).response.message;
		const { cursor } = await syncAll(b);
		const edit = await push(a, 'edit_message', { client_id: cid(), id: sent.id, body: 'final', base_version: 1 });
		expect(edit.status).toBe('ok');
		expect(edit.response.message).toMatchObject({ id: sent.id, seq: sent.seq, body: 'final', version: 2, deleted: false });
		await until(() => updates.length === 1, 3000, 'message_updated');
		expect(updates[0].message).toEqual(edit.response.message);
		const since = await syncAll(b, cursor);
		expect(since.messages).toEqual([edit.response.message]);
	});

	test('a stale base_version is a conflict; someone else\'s message is forbidden', async () => {
		const a = await joinRoom(server.connect(alice.token), 'edit-2');
		const b = await joinRoom(server.connect(bob.token), 'edit-2');
		const sent = (await push(a, 'send_message', { client_id: cid(), body: 'v1' })).response.message;
		expect((await push(a, 'edit_message', { client_id: cid(), id: sent.id, body: 'v2', base_version: 1 })).status).toBe('ok');
		const stale = await push(a, 'edit_message', { client_id: cid(), id: sent.id, body: 'v2b', base_version: 1 });
		expect(stale).toMatchObject({ status: 'error', response: { reason: 'conflict' } });
		const foreignEdit = await push(b, 'edit_message', { client_id: cid(), id: sent.id, body: 'hijack', base_version: 2 });
		expect(foreignEdit).toMatchObject({ status: 'error', response: { reason: 'forbidden' } });
		const foreignDelete = await push(b, 'delete_message', { client_id: cid(), id: sent.id, base_version: 2 });
		expect(foreignDelete).toMatchObject({ status: 'error', response: { reason: 'forbidden' } });
		const { messages } = await syncAll(b);
		expect(messages).toHaveLength(1);
		expect(messages[0]).toMatchObject({ body: 'v2', version: 2 });
	});

	test('delete empties the body, marks deleted, bumps the version; editing it after is a conflict', async () => {
		const a = await joinRoom(server.connect(alice.token), 'delete-1');
		const b = await joinRoom(server.connect(bob.token), 'delete-1');
		const updates = collect(b, 'message_updated');
		const sent = (await push(a, 'send_message', { client_id: cid(), body: 'oops' })).response.message;
		const del = await push(a, 'delete_message', { client_id: cid(), id: sent.id, base_version: 1 });
		expect(del.status).toBe('ok');
		expect(del.response.message).toMatchObject({ id: sent.id, deleted: true, body: '', version: 2 });
		await until(() => updates.length === 1, 3000, 'message_updated');
		expect(updates[0].message.deleted).toBe(true);
		const edit = await push(a, 'edit_message', { client_id: cid(), id: sent.id, body: 'back', base_version: 2 });
		expect(edit.response.reason).toBe('conflict');
		const again = await push(a, 'delete_message', { client_id: cid(), id: sent.id, base_version: 2 });
		expect(again.response.reason).toBe('conflict');
	});

	test('an edit replayed with its client_id returns the first reply even after later edits', async () => {
		const a = await joinRoom(server.connect(alice.token), 'edit-3');
		const sent = (await push(a, 'send_message', { client_id: cid(), body: 'a' })).response.message;
		const editId = cid();
		const first = await push(a, 'edit_message', { client_id: editId, id: sent.id, body: 'b', base_version: 1 });
		await push(a, 'edit_message', { client_id: cid(), id: sent.id, body: 'c', base_version: 2 });
		const replay = await push(a, 'edit_message', { client_id: editId, id: sent.id, body: 'b', base_version: 1 });
		expect(replay).toEqual(first);
	});

	test('a bad id or version is invalid', async () => {
		const a = await joinRoom(server.connect(alice.token), 'edit-4');
		expect((await push(a, 'edit_message', { client_id: cid(), id: 'x', body: 'b', base_version: 0 })).response.reason).toBe('invalid');
		expect((await push(a, 'edit_message', { client_id: cid(), id: 'x', body: 'b' })).response.reason).toBe('invalid');
		expect((await push(a, 'delete_message', { client_id: cid(), id: 12, base_version: 1 })).response.reason).toBe('invalid');
	});
});

describe('mark_read', () => {
	test('counts others\' messages above the read marker', async () => {
		const a = await joinRoom(server.connect(alice.token), 'read-1');
		const b = await joinRoom(server.connect(bob.token), 'read-1');
		for (const body of ['1', '2', '3']) await push(a, 'send_message', { client_id: cid(), body });
		await push(b, 'send_message', { client_id: cid(), body: 'mine' });
		const none = await push(b, 'mark_read', { client_id: cid(), seq: 0 });
		expect(none).toEqual({ status: 'ok', response: { unread_count: 3 } });
		const some = await push(b, 'mark_read', { client_id: cid(), seq: 2 });
		expect(some.response.unread_count).toBe(1);
		const backwards = await push(b, 'mark_read', { client_id: cid(), seq: 1 });
		expect(backwards.response.unread_count).toBe(1);
		const { pages } = await syncAll(b);
		expect(pages.at(-1).unread_count).toBe(1);
		expect((await push(b, 'mark_read', { client_id: cid(), seq: -1 })).response.reason).toBe('invalid');
	});
});

describe('send_batch', () => {
	test('applies actions in order, fails a bad one alone, and replays identically', async () => {
		const a = await joinRoom(server.connect(alice.token), 'batch-1');
		const actions = [
			{ client_id: cid(), type: 'send_message', payload: { body: 'one' } },
			{ client_id: cid(), type: 'send_message', payload: { body: '' } },
			{ client_id: cid(), type: 'send_message', payload: { body: 'three' } },
			{ client_id: cid(), type: 'mark_read', payload: { seq: 0 } }
		];
		const reply = await push(a, 'send_batch', { actions });
		expect(reply.status).toBe('ok');
		const results = reply.response.results;
		expect(results.map((r: any) => [r.client_id, r.status])).toEqual(actions.map((x, i) => [x.client_id, i === 1 ? 'error' : 'ok']));
		expect(results[0].message).toMatchObject({ body: 'one', seq: 1 });
		expect(results[1].reason).toBe('invalid');
		expect(results[2].message).toMatchObject({ body: 'three', seq: 2 });
		expect(results[3]).toEqual({ client_id: actions[3]!.client_id, status: 'ok', unread_count: 0 });

		const replay = await push(a, 'send_batch', { actions });
		expect(replay.response.results[0]).toEqual(results[0]);
		expect(replay.response.results[2]).toEqual(results[2]);
		const single = await push(a, 'send_message', { client_id: actions[0]!.client_id, body: 'one' });
		expect(single.response.message).toEqual(results[0].message);
	});

	test('a batch of 100 is accepted, 101 or a malformed batch is invalid, an empty one has no results, an unknown type fails alone', async () => {
		const a = await joinRoom(server.connect(alice.token), 'batch-2');
		const make = (n: number) => Array.from({ length: n }, (_, i) => ({ client_id: cid(), type: 'send_message', payload: { body: `m${i}` } }));
		const ok = await push(a, 'send_batch', { actions: make(100) });
		expect(ok.response.results).toHaveLength(100);
		expect(ok.response.results.map((r: any) => r.message.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
		const tooMany = await push(a, 'send_batch', { actions: make(101) });
		expect(tooMany).toMatchObject({ status: 'error', response: { reason: 'invalid' } });
		expect(await push(a, 'send_batch', { actions: [] })).toEqual({ status: 'ok', response: { results: [] } });
		expect((await push(a, 'send_batch', { actions: make(1), extra: true })).response.reason).toBe('invalid');
		expect((await push(a, 'send_batch', { actions: [{ type: 'send_message', payload: { body: 'no id' } }] })).response.reason).toBe('invalid');
		// Nothing of the refused batches landed.
		expect((await syncAll(a)).messages).toHaveLength(100);
		// An unknown type is that action's own failure; the rest of the batch goes on.
		const [shout, after] = make(2);
		const mixed = await push(a, 'send_batch', { actions: [{ ...shout, type: 'shout' }, after] });
		expect(mixed.response.results).toEqual([
			{ client_id: shout!.client_id, status: 'error', reason: 'invalid', message: expect.stringContaining('unknown action type "shout"') },
			expect.objectContaining({ client_id: after!.client_id, status: 'ok', message: expect.objectContaining({ seq: 101 }) })
		]);
		// Any visible ASCII makes a client_id (UUIDs, "tab1:42"); spaces do not.
		expect((await push(a, 'send_message', { client_id: 'tab1:42.a/b', body: 'odd id' })).response.message).toMatchObject({ client_id: 'tab1:42.a/b', seq: 102 });
		expect((await push(a, 'send_message', { client_id: 'has space', body: 'x' })).response.reason).toBe('invalid');
	});

	test('a payload client_id that differs from the action client_id is invalid', async () => {
		const a = await joinRoom(server.connect(alice.token), 'batch-3');
		const reply = await push(a, 'send_batch', {
			actions: [{ client_id: cid(), type: 'send_message', payload: { client_id: 'other', body: 'x' } }]
		});
		expect(reply.response.results[0]).toMatchObject({ status: 'error', reason: 'invalid' });
	});
});

describe('sync and history', () => {
	test('sync replies {} and then pushes sync:complete with the room in seq order', async () => {
		const a = await joinRoom(server.connect(alice.token), 'sync-1');
		for (const body of ['a', 'b', 'c']) await push(a, 'send_message', { client_id: cid(), body });
		const order: string[] = [];
		a.on('sync:complete', () => void order.push('push'));
		let reply: unknown;
		a.push('sync', { since: null }).receive('ok', (response) => {
			reply = response;
			order.push('reply');
		});
		await until(() => order.length === 2, 3000, 'sync:complete');
		expect(order).toEqual(['reply', 'push']);
		expect(reply).toEqual({});
		const { pages } = await syncAll(a);
		expect(pages).toHaveLength(1);
		expect(pages[0].complete).toBe(true);
		expect(pages[0].messages.map((m: any) => [m.seq, m.body])).toEqual([[1, 'a'], [2, 'b'], [3, 'c']]);
		expect(typeof pages[0].cursor).toBe('string');
		expect(pages[0].unread_count).toBe(0);
	});

	test('sync from a cursor gives only later changes, each once, in change order', async () => {
		const a = await joinRoom(server.connect(alice.token), 'sync-2');
		const m1 = (await push(a, 'send_message', { client_id: cid(), body: 'one' })).response.message;
		const m2 = (await push(a, 'send_message', { client_id: cid(), body: 'two' })).response.message;
		const { cursor } = await syncAll(a);
		await push(a, 'edit_message', { client_id: cid(), id: m2.id, body: 'two!', base_version: 1 });
		const m3 = (await push(a, 'send_message', { client_id: cid(), body: 'three' })).response.message;
		await push(a, 'edit_message', { client_id: cid(), id: m1.id, body: 'one!', base_version: 1 });
		await push(a, 'delete_message', { client_id: cid(), id: m1.id, base_version: 2 });
		const { messages, cursor: next } = await syncAll(a, cursor);
		expect(messages.map((m: any) => [m.id, m.version, m.deleted])).toEqual([
			[m2.id, 2, false],
			[m3.id, 1, false],
			[m1.id, 3, true]
		]);
		const nothing = await syncAll(a, next);
		expect(nothing.messages).toEqual([]);
		expect(nothing.cursor).toBe(next);
	});

	test('sync pages over 1,200 messages: 500, 500, 200, each once, in seq order', async () => {
		const a = await joinRoom(server.connect(alice.token), 'sync-big');
		for (let batch = 0; batch < 12; batch++) {
			const actions = Array.from({ length: 100 }, (_, i) => ({ client_id: cid(), type: 'send_message', payload: { body: `m${batch * 100 + i}` } }));
			expect((await push(a, 'send_batch', { actions })).status).toBe('ok');
		}
		const { pages, messages } = await syncAll(a);
		expect(pages.map((p) => p.messages.length)).toEqual([500, 500, 200]);
		expect(pages.map((p) => p.complete)).toEqual([false, false, true]);
		expect(messages.map((m: any) => m.seq)).toEqual(Array.from({ length: 1200 }, (_, i) => i + 1));
		expect(new Set(messages.map((m: any) => m.id)).size).toBe(1200);
	});

	test('a cursor the server never gave is invalid', async () => {
		const a = await joinRoom(server.connect(alice.token), 'sync-3');
		for (const since of ['garbage', 'c.999999', 42, '../etc']) {
			const reply = await push(a, 'sync', { since });
			expect(reply, String(since)).toMatchObject({ status: 'error', response: { reason: 'invalid' } });
		}
		expect((await push(a, 'sync', {})).response.reason).toBe('invalid');
	});

	test('history returns the messages just below `before`, in seq order, with the current cursor', async () => {
		const a = await joinRoom(server.connect(alice.token), 'history-1');
		const actions = Array.from({ length: 30 }, (_, i) => ({ client_id: cid(), type: 'send_message', payload: { body: `h${i + 1}` } }));
		await push(a, 'send_batch', { actions });
		const newest = await push(a, 'history', { before: null, limit: 10 });
		expect(newest.response.messages.map((m: any) => m.seq)).toEqual([21, 22, 23, 24, 25, 26, 27, 28, 29, 30]);
		const older = await push(a, 'history', { before: 21, limit: 5 });
		expect(older.response.messages.map((m: any) => m.seq)).toEqual([16, 17, 18, 19, 20]);
		const first = await push(a, 'history', { before: 3, limit: 200 });
		expect(first.response.messages.map((m: any) => m.seq)).toEqual([1, 2]);
		// The cursor lets a client show recent history, then sync forward.
		await push(a, 'send_message', { client_id: cid(), body: 'later' });
		const forward = await syncAll(a, newest.response.cursor);
		expect(forward.messages.map((m: any) => m.body)).toEqual(['later']);
		expect((await push(a, 'history', { before: null, limit: 201 })).response.reason).toBe('invalid');
		expect((await push(a, 'history', { before: null, limit: 0 })).response.reason).toBe('invalid');
	});
});

describe('rooms', () => {
	test('a room is created on its first join and not written again on later joins in this process', async () => {
		const store = server.outbox.store;
		const original = store.ensureRoom.bind(store);
		const ensured: string[] = [];
		store.ensureRoom = async (slug) => {
			ensured.push(slug);
			return original(slug);
		};
		try {
			const first = await joinRoom(server.connect(alice.token), 'made-once');
			await joinRoom(server.connect(bob.token), 'made-once');
			await joinRoom(server.connect(alice.token), 'made-once');
			expect(ensured.filter((slug) => slug === 'made-once')).toEqual(['made-once']);
			const sent = await push(first, 'send_message', { client_id: cid(), body: 'the room exists' });
			expect(sent.response.message).toMatchObject({ room: 'made-once', seq: 1 });
		} finally {
			store.ensureRoom = original;
		}
	});

	test('a dm room admits only its two users, ids in ascending order', async () => {
		const carol = await server.signIn('Carol');
		const [lo, hi] = [alice.user.id, bob.user.id].sort() as [string, string];
		const slug = `dm-${lo}-${hi}`;
		expect((await join(server.connect(alice.token).channel(`room:${slug}`))).status).toBe('ok');
		expect((await join(server.connect(bob.token).channel(`room:${slug}`))).status).toBe('ok');
		const carolSocket = server.connect(carol.token);
		const refused = carolSocket.channel(`room:${slug}`);
		expect(await join(refused)).toEqual({ status: 'error', response: { reason: 'forbidden' } });
		refused.leave();
		const reversed = server.connect(alice.token).channel(`room:dm-${hi}-${lo}`);
		expect((await join(reversed)).response.reason).toBe('forbidden');
		reversed.leave();
		const odd = server.connect(alice.token).channel('room:dm-whatever');
		expect((await join(odd)).response.reason).toBe('forbidden');
		odd.leave();
	});

	test('a bad slug is refused as invalid; an unknown topic is unmatched', async () => {
		const socket = server.connect(alice.token);
		const bad = socket.channel('room:Not_OK');
		expect(await join(bad)).toEqual({ status: 'error', response: { reason: 'invalid' } });
		bad.leave();
		const long = socket.channel('room:' + 'a'.repeat(41));
		expect((await join(long)).response.reason).toBe('invalid');
		long.leave();
		const other = socket.channel('lobby');
		expect(await join(other)).toEqual({ status: 'error', response: { reason: 'unmatched topic' } });
		other.leave();
	});
});
