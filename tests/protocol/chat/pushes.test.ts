/**
 * The push contract (DESIGN.md, server -> client pushes) with the official
 * phoenix client: a change goes to every *other* socket in the room (the
 * sender's other tab included), never back to the socket that pushed it (its
 * reply carries it); a call that changes more than one message is one
 * `changes {messages}` push; an HTTP call (no socket) reaches every socket.
 * "Did not arrive" is proven with a marker message, without sleeping (push-log.ts).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createPushLog, only } from '../helpers/push-log.js';
import { cid, joinRoom, push, startServer, type TestServer } from './harness.js';

type Session = { token: string; user: { id: string; name: string } };

let server: TestServer;
let alice: Session;
let bob: Session;
let marker: Session;

beforeAll(async () => {
	server = await startServer();
	alice = await server.signIn('Alice');
	bob = await server.signIn('Bob');
	marker = await server.signIn('Marker');
});
afterAll(() => server.close());

/** Alice in two tabs (a1, a2), Bob, and the marker, all in one fresh room. */
async function room(slug: string) {
	const sockets = { a1: server.connect(alice.token), a2: server.connect(alice.token), b: server.connect(bob.token) };
	const log = createPushLog(`room:${slug}`, sockets);
	const [a1, a2, b, m] = await Promise.all([
		joinRoom(sockets.a1, slug),
		joinRoom(sockets.a2, slug),
		joinRoom(sockets.b, slug),
		joinRoom(server.connect(marker.token), slug)
	]);
	return { a1, a2, b, settle: () => log.settle(m) };
}

const send = (body: string) => ({ client_id: cid(), type: 'send_message', payload: { body } });

describe('single actions', () => {
	test('send_message reaches the other tab and the other user as new_message, not the socket that sent it', async () => {
		const r = await room('push-send');
		const reply = await push(r.a1, 'send_message', { client_id: cid(), body: 'hello' });
		expect(reply.status).toBe('ok');
		const got = await r.settle();
		expect(got.a1).toEqual([]);
		expect(got.a2).toEqual(only('new_message', { message: reply.response.message }));
		expect(got.b).toEqual(only('new_message', { message: reply.response.message }));
	});

	test('edit_message and delete_message from the second tab reach the first tab and Bob as message_updated', async () => {
		const r = await room('push-edit');
		const sent = (await push(r.a1, 'send_message', { client_id: cid(), body: 'draft' })).response.message;
		await r.settle();
		const edit = await push(r.a2, 'edit_message', { client_id: cid(), id: sent.id, body: 'final', base_version: 1 });
		const del = await push(r.a2, 'delete_message', { client_id: cid(), id: sent.id, base_version: 2 });
		expect([edit.status, del.status]).toEqual(['ok', 'ok']);
		const got = await r.settle();
		const updates = [
			...only('message_updated', { message: edit.response.message }),
			...only('message_updated', { message: del.response.message })
		];
		expect(got.a2).toEqual([]);
		expect(got.a1).toEqual(updates);
		expect(got.b).toEqual(updates);
	});

	test('mark_read, a replay and a refused action push nothing', async () => {
		const r = await room('push-quiet');
		const client_id = cid();
		const first = await push(r.a1, 'send_message', { client_id, body: 'once' });
		await r.settle();
		expect((await push(r.a1, 'send_message', { client_id, body: 'once' })).response).toEqual(first.response);
		expect((await push(r.a2, 'send_message', { client_id, body: 'once' })).response).toEqual(first.response);
		expect((await push(r.a1, 'mark_read', { client_id: cid(), seq: 1 })).status).toBe('ok');
		expect((await push(r.b, 'edit_message', { client_id: cid(), id: first.response.message.id, body: 'mine?', base_version: 1 })).response.reason).toBe('forbidden');
		expect(await r.settle()).toEqual({ a1: [], a2: [], b: [] });
	});
});

describe('send_batch', () => {
	test('a batch that creates three messages is one changes push with the three, in order, to every other socket', async () => {
		const r = await room('push-batch');
		const reply = await push(r.a1, 'send_batch', { actions: [send('one'), send('two'), send('three')] });
		const messages = reply.response.results.map((x: any) => x.message);
		expect(messages.map((m: any) => m.seq)).toEqual([1, 2, 3]);
		const got = await r.settle();
		expect(got.a1).toEqual([]);
		expect(got.a2).toEqual(only('changes', { messages }));
		expect(got.b).toEqual(only('changes', { messages }));
	});

	test('a message changed twice in one batch is listed once, in its latest state, at its last change', async () => {
		const r = await room('push-batch-twice');
		const first = await push(r.a1, 'send_batch', { actions: [send('x'), send('y')] });
		const [sentX, sentY] = first.response.results.map((res: any) => res.message);
		await r.settle();
		const edit = (id: string, body: string, base_version: number) => ({ client_id: cid(), type: 'edit_message', payload: { id, body, base_version } });
		const reply = await push(r.a1, 'send_batch', {
			actions: [
				send('z'),
				edit(sentX.id, 'x2', 1),
				{ client_id: cid(), type: 'mark_read', payload: { seq: 2 } },
				edit('nosuchid', 'never', 1),
				edit(sentY.id, 'y2', 1),
				edit(sentX.id, 'x3', 2),
				send('w')
			]
		});
		const results = reply.response.results;
		expect(results.map((x: any) => x.status)).toEqual(['ok', 'ok', 'ok', 'error', 'ok', 'ok', 'ok']);
		const [z, , , , y2, x3, w] = results.map((x: any) => x.message);
		expect(x3).toMatchObject({ id: sentX.id, body: 'x3', version: 3 });
		const got = await r.settle();
		// z, y, x, w: each message once, where it last changed (as a sync from before the batch lists them).
		expect(got.b).toEqual(only('changes', { messages: [z, y2, x3, w] }));
		expect(got.a2).toEqual(got.b);
		expect(got.a1).toEqual([]);
	});

	test('a batch that changes exactly one message is pushed as that single event', async () => {
		const r = await room('push-batch-one');
		const created = await push(r.a1, 'send_batch', { actions: [send('solo'), { client_id: cid(), type: 'mark_read', payload: { seq: 0 } }] });
		const solo = created.response.results[0].message;
		const edited = await push(r.a2, 'send_batch', {
			actions: [{ client_id: cid(), type: 'edit_message', payload: { id: solo.id, body: 'solo2', base_version: 1 } }]
		});
		const replayed = await push(r.a1, 'send_batch', { actions: [] });
		expect(replayed.response.results).toEqual([]);
		const got = await r.settle();
		expect(got.b).toEqual([
			...only('new_message', { message: solo }),
			...only('message_updated', { message: edited.response.results[0].message })
		]);
		expect(got.a1).toEqual(only('message_updated', { message: edited.response.results[0].message }));
		expect(got.a2).toEqual(only('new_message', { message: solo }));
	});

	test('a batch made only of replays pushes nothing', async () => {
		const r = await room('push-batch-replay');
		const actions = [send('p'), send('q')];
		const first = await push(r.a1, 'send_batch', { actions });
		await r.settle();
		const again = await push(r.a2, 'send_batch', { actions });
		expect(again.response).toEqual(first.response);
		expect(await r.settle()).toEqual({ a1: [], a2: [], b: [] });
	});
});

describe('POST /api/sync/events (no socket)', () => {
	test("reaches every socket in the room, the caller's own included: one changes for several, new_message for one", async () => {
		const r = await room('push-http');
		const several = await server.api('POST', '/api/sync/events', { room: 'push-http', actions: [send('sw1'), send('sw2')] }, alice.token);
		expect(several.status).toBe(200);
		const one = await server.api('POST', '/api/sync/events', { room: 'push-http', actions: [send('sw3')] }, alice.token);
		const messages = several.body.results.map((x: any) => x.message);
		const expected = [...only('changes', { messages }), ...only('new_message', { message: one.body.results[0].message })];
		const got = await r.settle();
		expect(got).toEqual({ a1: expected, a2: expected, b: expected });
	});
});
