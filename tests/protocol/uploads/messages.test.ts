/**
 * Messages that carry files, over the official phoenix client and the HTTP
 * sync endpoint: which upload ids a send may name, and the `attachments`
 * list in every reply, push, sync page and history page, replays included.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { LIMITS } from '../../../src/lib/protocol/index.js';
import { cid, collect, joinRoom, push, startServer, syncAll, until, type TestServer } from '../chat/harness.js';
import { fileOf, postUpload } from './helpers.js';

let server: TestServer;
let ada: { token: string; user: { id: string; name: string } };
let bob: { token: string; user: { id: string; name: string } };

beforeAll(async () => {
	server = await startServer();
	ada = await server.signIn('Ada');
	bob = await server.signIn('Bob');
});
afterAll(() => server.close());

/** Upload a file as `who`; resolves to the `{id, name, type, size}` a message will carry. */
async function uploadAs(who: { token: string }, type = 'image/png', name = 'pic.png') {
	const res = await postUpload(server.url, fileOf(type, 700), { token: who.token, type, name });
	expect(res.status).toBe(201);
	const { id, size } = res.body.upload;
	return { id, name, type, size };
}

describe('send_message with attachments', () => {
	test('carries the files in the reply, the push, sync and history, in the order named', async () => {
		const a = await joinRoom(server.connect(ada.token), 'files-1');
		const b = await joinRoom(server.connect(bob.token), 'files-1');
		const seen = collect(b, 'new_message');
		const photo = await uploadAs(ada);
		const doc = await uploadAs(ada, 'application/pdf', 'report.pdf');

		const client_id = cid();
		const reply = await push(a, 'send_message', { client_id, body: 'two files', attachments: [doc.id, photo.id] });
		expect(reply.status).toBe('ok');
		const message = reply.response.message;
		expect(message.attachments).toEqual([doc, photo]);

		await until(() => seen.length === 1, 3000, 'new_message');
		expect(seen[0].message).toEqual(message);
		const { messages } = await syncAll(b);
		expect(messages).toEqual([message]);
		const history = await push(b, 'history', { before: null, limit: 10 });
		expect(history.response.messages).toEqual([message]);

		const replay = await push(a, 'send_message', { client_id, body: 'two files', attachments: [doc.id, photo.id] });
		expect(replay.response.message).toEqual(message);
	});

	test('takes an empty body when there is a file, and refuses an empty body without one', async () => {
		const a = await joinRoom(server.connect(ada.token), 'files-2');
		const file = await uploadAs(ada, 'text/plain', 'notes.txt');
		const ok = await push(a, 'send_message', { client_id: cid(), body: '', attachments: [file.id] });
		expect(ok.status).toBe('ok');
		expect(ok.response.message).toMatchObject({ body: '', attachments: [file] });
		const empty = await push(a, 'send_message', { client_id: cid(), body: '  ', attachments: [] });
		expect(empty).toEqual({ status: 'error', response: { reason: 'invalid', message: 'body: body is empty' } });
	});

	test('refuses an upload id that is not one of the sender\'s uploads with invalid, and stores nothing', async () => {
		const a = await joinRoom(server.connect(ada.token), 'files-3');
		const bobs = await uploadAs(bob);
		for (const id of [bobs.id, 'nosuchuploadid000000000', 'a'.repeat(24)]) {
			const client_id = cid();
			const reply = await push(a, 'send_message', { client_id, body: 'stolen?', attachments: [id] });
			expect(reply.status).toBe('error');
			expect(reply.response).toEqual({ reason: 'invalid', message: `attachment ${id} is not one of your uploads` });
		}
		expect((await syncAll(a)).messages).toEqual([]);
		// Bob's file is still only Bob's: Ada cannot fetch it by id.
		const res = await fetch(`${server.url}/api/uploads/${bobs.id}`, { headers: { authorization: `Bearer ${ada.token}` } });
		expect(res.status).toBe(404);
	});

	test(`refuses more than ${LIMITS.attachmentsMax} files, the same file twice, and ids that are not ids`, async () => {
		const a = await joinRoom(server.connect(ada.token), 'files-4');
		const files = await Promise.all(Array.from({ length: 5 }, () => uploadAs(ada)));
		const four = await push(a, 'send_message', { client_id: cid(), body: 'four', attachments: files.slice(0, 4).map((f) => f.id) });
		expect(four.response.message.attachments).toHaveLength(4);
		const cases = [
			[files.map((f) => f.id), /at most 4 attachments/],
			[[files[0]!.id, files[0]!.id], /named twice/],
			[['../etc/passwd'], /upload id may use only/],
			['not-a-list', /attachments/]
		] as const;
		for (const [attachments, why] of cases) {
			const reply = await push(a, 'send_message', { client_id: cid(), body: 'x', attachments });
			expect(reply.status).toBe('error');
			expect(reply.response.reason).toBe('invalid');
			expect(reply.response.message).toMatch(why);
		}
	});

	test('lets anyone who may join a public room fetch its files, and only the uploader fetch an unsent one', async () => {
		const a = await joinRoom(server.connect(ada.token), 'files-5');
		const sent = await uploadAs(ada);
		const unsent = await uploadAs(ada);
		await push(a, 'send_message', { client_id: cid(), body: 'look', attachments: [sent.id] });
		const carol = await server.signIn('Carol');
		const get = (id: string, token: string) => fetch(`${server.url}/api/uploads/${id}`, { headers: { authorization: `Bearer ${token}` } });
		expect((await get(sent.id, carol.token)).status).toBe(200);
		expect((await get(unsent.id, carol.token)).status).toBe(404);
		expect((await get(unsent.id, ada.token)).status).toBe(200);
	});

	test('a dm file: the two members fetch it, a third user gets 404', async () => {
		const slug = [ada.user.id, bob.user.id].sort().join('-');
		const dm = await joinRoom(server.connect(ada.token), `dm-${slug}`);
		const file = await uploadAs(ada, 'application/pdf', 'secret.pdf');
		const reply = await push(dm, 'send_message', { client_id: cid(), body: 'for you', attachments: [file.id] });
		expect(reply.status).toBe('ok');
		const carol = await server.signIn('Carol');
		const get = (token: string) => fetch(`${server.url}/api/uploads/${file.id}`, { headers: { authorization: `Bearer ${token}` } });
		expect((await get(bob.token)).status).toBe(200);
		expect((await get(ada.token)).status).toBe(200);
		const third = await get(carol.token);
		expect(third.status).toBe(404);
		expect(await third.json()).toEqual({ reason: 'invalid', message: 'no such upload' });
	});

	test('deleting a message drops its files: others get 404, the uploader still has it', async () => {
		const a = await joinRoom(server.connect(ada.token), 'files-6');
		const file = await uploadAs(ada);
		const sent = await push(a, 'send_message', { client_id: cid(), body: 'oops', attachments: [file.id] });
		const message = sent.response.message;
		const edited = await push(a, 'edit_message', { client_id: cid(), id: message.id, body: 'caption', base_version: 1 });
		expect(edited.response.message.attachments).toEqual([file]);
		const deleted = await push(a, 'delete_message', { client_id: cid(), id: message.id, base_version: 2 });
		expect(deleted.response.message).toMatchObject({ deleted: true, body: '', attachments: [] });
		const get = (token: string) => fetch(`${server.url}/api/uploads/${file.id}`, { headers: { authorization: `Bearer ${token}` } });
		expect((await get(bob.token)).status).toBe(404);
		expect((await get(ada.token)).status).toBe(200);
		expect((await syncAll(a)).messages[0].attachments).toEqual([]);
	});
});

describe('attachments in batches', () => {
	test('send_batch carries files per action, a foreign id fails only its action', async () => {
		const a = await joinRoom(server.connect(ada.token), 'files-7');
		const mine = await uploadAs(ada);
		const bobs = await uploadAs(bob);
		const reply = await push(a, 'send_batch', {
			actions: [
				{ client_id: cid(), type: 'send_message', payload: { body: 'with file', attachments: [mine.id] } },
				{ client_id: cid(), type: 'send_message', payload: { body: 'not mine', attachments: [bobs.id] } },
				{ client_id: cid(), type: 'send_message', payload: { body: 'plain' } }
			]
		});
		const [first, second, third] = reply.response.results;
		expect(first).toMatchObject({ status: 'ok', message: { attachments: [mine], seq: 1 } });
		expect(second).toMatchObject({ status: 'error', reason: 'invalid' });
		expect(third).toMatchObject({ status: 'ok', message: { attachments: [], seq: 2 } });
	});

	test('POST /api/sync/events carries files as send_batch does, and replays them', async () => {
		const watcher = await joinRoom(server.connect(bob.token), 'files-8');
		const seen = collect(watcher, 'new_message');
		const file = await uploadAs(ada, 'image/webp', 'sticker.webp');
		const client_id = cid();
		const body = { room: 'files-8', actions: [{ client_id, type: 'send_message', payload: { body: '', attachments: [file.id] } }] };
		const first = await server.api('POST', '/api/sync/events', body, ada.token);
		expect(first.status).toBe(200);
		expect(first.body.results[0]).toMatchObject({ status: 'ok', message: { body: '', attachments: [file] } });
		const again = await server.api('POST', '/api/sync/events', body, ada.token);
		expect(again.body).toEqual(first.body);
		await until(() => seen.length > 0, 3000, 'a push for the HTTP send');
		expect(JSON.stringify(seen)).toContain(file.id);
	});
});
