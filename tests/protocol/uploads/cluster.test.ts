/**
 * Attachments in cluster mode: two servers on one PostgreSQL schema (and one
 * SECRET_KEY) serve each other's files, apply one quota and one idempotency
 * key, and carry a message with a file sent through one to sockets on the other.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { cid, collect, joinRoom, push, startServer, syncAll, until, type TestServer } from '../chat/harness.js';
import { adminQuery, dropSchemas, freshSchema, TEST_DATABASE_URL } from '../helpers/pg.js';
import { fileOf, filesIn, getUpload, openUpload, postUpload, sha256, stagingOf, uploadId, uploadsOf } from './helpers.js';

const schema = freshSchema('upcluster');
let a: TestServer;
let b: TestServer;

beforeAll(async () => {
	await adminQuery('SELECT 1'); // fails at once, with the how-to, when PostgreSQL is not there
	const config = { databaseUrl: TEST_DATABASE_URL, databaseSchema: schema, secretKey: randomBytes(24).toString('hex') };
	[a, b] = await Promise.all([startServer(config), startServer(config)]);
}, 30_000);
afterAll(async () => {
	await Promise.all([a?.close(), b?.close()]);
	await dropSchemas([schema]);
});

describe('uploads across two servers on one PostgreSQL', () => {
	test('a file uploaded through A is served by B, byte for byte, and nothing lands on disk', async () => {
		const ada = await a.signIn('Ada');
		const bytes = fileOf('image/jpeg', 700_000);
		const posted = await postUpload(a.url, bytes, { token: ada.token, type: 'image/jpeg', name: 'beach.jpg' });
		expect(posted.status).toBe(201);
		const served = await getUpload(b.url, posted.body.upload.id, { token: ada.token });
		expect(served.status).toBe(200);
		expect(served.headers.get('etag')).toBe(`"${sha256(bytes)}"`);
		expect(sha256(served.bytes)).toBe(sha256(bytes));
		expect(filesIn(uploadsOf(a.dataDir))).toEqual([]);
		expect(filesIn(uploadsOf(b.dataDir))).toEqual([]);
	});

	test('the same X-Upload-Id through A then B is one upload', async () => {
		const ada = await a.signIn('Ada');
		const id = uploadId();
		const bytes = fileOf('application/pdf', 3000);
		const first = await postUpload(a.url, bytes, { token: ada.token, type: 'application/pdf', id });
		const again = await postUpload(b.url, bytes, { token: ada.token, type: 'application/pdf', id });
		expect(again).toMatchObject({ status: 201, body: first.body });
		const rows = await adminQuery<{ n: number }>(`SELECT count(*)::int AS n FROM "${schema}".uploads WHERE key = $1`, [id]);
		expect(rows[0]!.n).toBe(1);
	});

	test('a message with a file sent through B reaches a socket on A, and its reader fetches the file from A', async () => {
		const ada = await a.signIn('Ada');
		const bob = await b.signIn('Bob');
		const watcher = await joinRoom(a.connect(ada.token), 'cluster-files');
		const seen = collect(watcher, 'new_message');
		const sender = await joinRoom(b.connect(bob.token), 'cluster-files');
		const posted = await postUpload(b.url, fileOf('image/png', 5000), { token: bob.token, type: 'image/png', name: 'map.png' });
		const { id, name, type, size } = posted.body.upload;

		const reply = await push(sender, 'send_message', { client_id: cid(), body: '', attachments: [id] });
		expect(reply.response.message.attachments).toEqual([{ id, name, type, size }]);
		await until(() => seen.length === 1, 5000, 'new_message on A');
		expect(seen[0].message).toEqual(reply.response.message);
		expect((await syncAll(watcher)).messages).toEqual([reply.response.message]);
		const history = await push(watcher, 'history', { before: null, limit: 5 });
		expect(history.response.messages).toEqual([reply.response.message]);
		expect((await getUpload(a.url, id, { token: ada.token })).status).toBe(200);
	});

	test('a cut-off upload leaves no record, no chunk and no staged file', async () => {
		const ada = await a.signIn('Ada');
		const key = uploadId();
		const bytes = fileOf('image/png', 3 * 1024 * 1024);
		const { req, response } = openUpload(a.url, { token: ada.token, type: 'image/png', id: key, contentLength: bytes.length });
		req.write(bytes.subarray(0, 1024 * 1024));
		await until(() => filesIn(stagingOf(a.dataDir)).length === 1, 5000, 'the body being staged');
		req.destroy();
		await response.catch(() => {});
		await until(() => filesIn(stagingOf(a.dataDir)).length === 0, 5000, 'the staged file removed');
		const rows = await adminQuery<{ n: number }>(`SELECT count(*)::int AS n FROM "${schema}".uploads WHERE key = $1`, [key]);
		expect(rows[0]!.n).toBe(0);
		const orphanChunks = await adminQuery<{ n: number }>(
			`SELECT count(*)::int AS n FROM "${schema}".upload_chunks c WHERE NOT EXISTS (SELECT 1 FROM "${schema}".uploads u WHERE u.id = c.upload_id)`
		);
		expect(orphanChunks[0]!.n).toBe(0);
	});

	test('refuses a send naming another user\'s upload on either node', async () => {
		const ada = await a.signIn('Ada');
		const bob = await b.signIn('Bob');
		const posted = await postUpload(a.url, fileOf('image/png', 100), { token: ada.token, type: 'image/png' });
		const channel = await joinRoom(b.connect(bob.token), 'cluster-foreign');
		const reply = await push(channel, 'send_message', { client_id: cid(), body: 'mine?', attachments: [posted.body.upload.id] });
		expect(reply).toMatchObject({ status: 'error', response: { reason: 'invalid' } });
		expect((await getUpload(b.url, posted.body.upload.id, { token: bob.token })).status).toBe(404);
	});

	test('a dm file stays between its two members on either server', async () => {
		const ada = await a.signIn('Ada');
		const bob = await b.signIn('Bob');
		const carol = await a.signIn('Carol');
		const slug = `dm-${[ada.user.id, bob.user.id].sort().join('-')}`;
		const dm = await joinRoom(a.connect(ada.token), slug);
		const posted = await postUpload(a.url, fileOf('text/plain', 200), { token: ada.token, type: 'text/plain' });
		await push(dm, 'send_message', { client_id: cid(), body: 'psst', attachments: [posted.body.upload.id] });
		for (const server of [a, b]) {
			expect((await getUpload(server.url, posted.body.upload.id, { token: bob.token })).status).toBe(200);
			expect((await getUpload(server.url, posted.body.upload.id, { token: carol.token })).status).toBe(404);
		}
	});
});
