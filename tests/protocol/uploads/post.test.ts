/**
 * `POST /api/uploads` on the real server (SQLite, files under
 * DATA_DIR/uploads): what it stores and answers, every limit and refusal,
 * and that nothing is left behind by a refused, cut-off or stalled upload.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { LIMITS } from '../../../src/lib/protocol/index.js';
import { startServer, until, type TestServer } from '../chat/harness.js';
import { filesIn, fileOf, getUpload, openUpload, postUpload, sha256, stagingOf, uploadId, uploadsOf } from './helpers.js';

let server: TestServer;
let ada: { token: string; user: { id: string; name: string } };
const MiB = 1024 * 1024;

beforeAll(async () => {
	server = await startServer({}, { uploads: { idleTimeoutMs: 500 } });
	ada = await server.signIn('Ada');
});
afterAll(() => server.close());

/** Nothing half-written anywhere: the staging folder is empty and the upload id names nothing. */
async function expectNothingStored(key: string) {
	await until(() => filesIn(stagingOf(server.dataDir)).length === 0, 3000, 'staging folder empty');
	expect(await server.outbox.uploads.store.findByKey(ada.user.id, key)).toBeNull();
}

describe('storing a file', () => {
	test('answers 201 {upload: {id, name, type, size, sha256}} and keeps the bytes under DATA_DIR/uploads', async () => {
		const bytes = fileOf('image/png', 5000);
		const res = await postUpload(server.url, bytes, { token: ada.token, type: 'image/png', name: encodeURIComponent('cat photo.png') });
		expect(res.status).toBe(201);
		expect(Object.keys(res.body)).toEqual(['upload']);
		const { upload } = res.body;
		expect(Object.keys(upload).sort()).toEqual(['id', 'name', 'sha256', 'size', 'type']);
		expect(upload).toMatchObject({ name: 'cat photo.png', type: 'image/png', size: 5000, sha256: sha256(bytes) });
		expect(upload.id).toMatch(/^[a-z0-9]{24}$/);
		expect(sha256(readFileSync(join(uploadsOf(server.dataDir), upload.id)))).toBe(sha256(bytes));
		expect(filesIn(stagingOf(server.dataDir))).toEqual([]);
	});

	test('takes every allowed type whose bytes match it', async () => {
		for (const type of ['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'application/pdf', 'text/plain']) {
			const res = await postUpload(server.url, fileOf(type, 300), { token: ada.token, type, name: 'f' });
			expect([type, res.status, res.body.upload?.type]).toEqual([type, 201, type]);
		}
	});

	test('takes a text/plain type with charset=utf-8 and stores the bare type', async () => {
		const res = await postUpload(server.url, Buffer.from('ok\n'), { token: ada.token, type: 'text/plain; charset=UTF-8' });
		expect(res.status).toBe(201);
		expect(res.body.upload.type).toBe('text/plain');
	});

	test('accepts a body sent chunked, with no Content-Length, a UTF-8 character split between chunks', async () => {
		const text = Buffer.from('naïve café ✓\n'.repeat(50));
		const { req, response } = openUpload(server.url, { token: ada.token, type: 'text/plain', name: 'notes.txt' });
		for (let i = 0; i < text.length; i += 7) req.write(text.subarray(i, i + 7));
		req.end();
		const res = await response;
		expect(res.status).toBe(201);
		expect(res.body.upload).toMatchObject({ size: text.length, sha256: sha256(text) });
	});
});

describe('file names', () => {
	const nameOf = async (header: string) => {
		const res = await postUpload(server.url, fileOf('image/png', 100), { token: ada.token, type: 'image/png', name: header });
		expect(res.status).toBe(201);
		return res.body.upload.name as string;
	};

	test('keeps only the last path segment: no traversal, either separator', async () => {
		expect(await nameOf(encodeURIComponent('../../../etc/passwd'))).toBe('passwd');
		expect(await nameOf(encodeURIComponent('..\\..\\Windows\\win.ini'))).toBe('win.ini');
		expect(await nameOf(encodeURIComponent('/abs/photo.png'))).toBe('photo.png');
		expect(await nameOf(encodeURIComponent('..'))).toBe('file.png');
	});

	test('drops control and bidi characters, replaces characters Windows refuses, keeps the rest', async () => {
		expect(await nameOf(encodeURIComponent('evil\u202Egnp.exe'))).toBe('evilgnp.exe');
		expect(await nameOf(encodeURIComponent('a\u0000b\nc\td.png'))).toBe('abcd.png');
		expect(await nameOf(encodeURIComponent('what?: "yes" <no>.png'))).toBe('what__ _yes_ _no_.png');
		expect(await nameOf(encodeURIComponent('Ünïcødé 写真.png'))).toBe('Ünïcødé 写真.png');
		expect(await nameOf(encodeURIComponent('.hidden.png'))).toBe('hidden.png');
	});

	test(`shortens a name to ${LIMITS.uploadNameMaxChars} characters, keeping its extension`, async () => {
		const name = await nameOf(encodeURIComponent('x'.repeat(400) + '.png'));
		expect([...name]).toHaveLength(LIMITS.uploadNameMaxChars);
		expect(name.endsWith('x.png')).toBe(true);
	});

	test('names a file by its type when X-File-Name is missing, and refuses one that is not URI-encoded', async () => {
		const res = await postUpload(server.url, fileOf('application/pdf', 100), { token: ada.token, type: 'application/pdf' });
		expect(res.body.upload.name).toBe('file.pdf');
		const id = uploadId();
		const bad = await postUpload(server.url, fileOf('image/png', 100), { token: ada.token, type: 'image/png', name: '%E0%A4%A', id });
		expect(bad).toMatchObject({ status: 400, body: { reason: 'invalid' } });
		await expectNothingStored(id);
	});
});

describe('idempotency by X-Upload-Id', () => {
	test('the same id and bytes again return the same upload and store nothing new', async () => {
		const bytes = fileOf('image/jpeg', 4000);
		const id = uploadId();
		const first = await postUpload(server.url, bytes, { token: ada.token, type: 'image/jpeg', name: 'a.jpg', id });
		const files = filesIn(uploadsOf(server.dataDir)).length;
		const again = await postUpload(server.url, bytes, { token: ada.token, type: 'image/jpeg', name: 'a.jpg', id });
		expect(first.status).toBe(201);
		expect(again).toMatchObject({ status: 201, body: first.body });
		expect(filesIn(uploadsOf(server.dataDir))).toHaveLength(files);
	});

	test('returns the upload when the first reply was lost on the way back', async () => {
		const { startTcpProxy } = await import('../helpers/tcp-proxy.js');
		const proxy = await startTcpProxy(Number(new URL(server.url).port));
		try {
			const bytes = fileOf('image/gif', 20_000);
			const id = uploadId();
			const { req, response } = openUpload(`http://127.0.0.1:${proxy.port}`, { token: ada.token, type: 'image/gif', id, contentLength: bytes.length });
			req.on('socket', (socket) => socket.on('connect', () => proxy.muteServerSide()));
			let answered = false;
			void response.then(() => (answered = true), () => {});
			req.end(bytes);
			const stored = await until(() => server.outbox.uploads.store.findByKey(ada.user.id, id), 5000, 'the upload stored');
			expect(answered).toBe(false); // the reply never reached the client
			req.destroy();

			const retry = await postUpload(server.url, bytes, { token: ada.token, type: 'image/gif', id });
			expect(retry.status).toBe(201);
			expect(retry.body.upload).toMatchObject({ id: stored!.id, sha256: sha256(bytes), size: bytes.length });
		} finally {
			await proxy.close();
		}
	});

	test('refuses other bytes under an id already used, with 409 invalid, and keeps the first file', async () => {
		const id = uploadId();
		const first = await postUpload(server.url, fileOf('image/png', 1000), { token: ada.token, type: 'image/png', id });
		const sameSize = await postUpload(server.url, fileOf('image/png', 1000, 0x41), { token: ada.token, type: 'image/png', id });
		expect(sameSize).toMatchObject({ status: 409, body: { reason: 'invalid' } });
		expect(sameSize.body.message).toMatch(/different file/);
		const otherSize = await postUpload(server.url, fileOf('image/png', 2000), { token: ada.token, type: 'image/png', id });
		expect(otherSize).toMatchObject({ status: 409, body: { reason: 'invalid' } });
		const served = await getUpload(server.url, first.body.upload.id, { token: ada.token });
		expect(sha256(served.bytes)).toBe(sha256(fileOf('image/png', 1000)));
	});

	test('keeps the same X-Upload-Id of two users apart', async () => {
		const bob = await server.signIn('Bob');
		const id = uploadId();
		const a = await postUpload(server.url, fileOf('image/png', 100), { token: ada.token, type: 'image/png', id });
		const b = await postUpload(server.url, fileOf('image/png', 200), { token: bob.token, type: 'image/png', id });
		expect([a.status, b.status]).toEqual([201, 201]);
		expect(a.body.upload.id).not.toBe(b.body.upload.id);
	});

	test('refuses an X-Upload-Id that is not a client_id', async () => {
		for (const id of ['', 'has space', 'x'.repeat(65)]) {
			const res = await postUpload(server.url, fileOf('image/png', 100), { token: ada.token, type: 'image/png', id });
			expect(res).toMatchObject({ status: 400, body: { reason: 'invalid' } });
		}
	});
});

describe('limits and refusals', () => {
	test(`takes exactly ${LIMITS.uploadMaxBytes} bytes (10 MiB)`, async () => {
		const res = await postUpload(server.url, fileOf('application/pdf', 10 * MiB), { token: ada.token, type: 'application/pdf' });
		expect(res.status).toBe(201);
		expect(res.body.upload.size).toBe(LIMITS.uploadMaxBytes);
	});

	test('refuses 10 MiB + 1 by its Content-Length with 413 before reading the body', async () => {
		const id = uploadId();
		const { req, response } = openUpload(server.url, { token: ada.token, type: 'image/png', id, contentLength: 10 * MiB + 1 });
		req.flushHeaders(); // headers only: the answer must come without a byte of the body
		expect(await response).toEqual({ status: 413, body: { reason: 'invalid', message: expect.stringMatching(/at most 10485760 bytes/) } });
		req.destroy();
		await expectNothingStored(id);
	});

	test('refuses 10 MiB + 1 sent chunked with 413 once the stream passes the limit', async () => {
		const id = uploadId();
		const { req, response } = openUpload(server.url, { token: ada.token, type: 'image/png', id });
		const bytes = fileOf('image/png', 10 * MiB + 1);
		for (let i = 0; i < bytes.length; i += MiB) req.write(bytes.subarray(i, i + MiB));
		req.end();
		expect(await response).toMatchObject({ status: 413, body: { reason: 'invalid' } });
		await expectNothingStored(id);
	});

	test('refuses a type not on the list with 415, before reading the body', async () => {
		for (const type of ['image/svg+xml', 'text/html', 'application/octet-stream', 'text/plain; charset=latin1']) {
			const res = await postUpload(server.url, Buffer.from('<svg onload=alert(1)>'), { token: ada.token, type });
			expect([type, res.status, res.body.reason]).toEqual([type, 415, 'invalid']);
		}
		const none = await postUpload(server.url, fileOf('image/png', 100), { token: ada.token });
		expect(none.status).toBe(415);
	});

	test('refuses bytes that lie about their type with 415', async () => {
		const lies: [string, Buffer][] = [
			['image/png', Buffer.from('just some text, not a png')],
			['image/jpeg', fileOf('image/png', 500)],
			['image/gif', Buffer.from('GIF90a and more')],
			['image/webp', Buffer.from('RIFF\0\0\0\0WAVEfmt ')],
			['application/pdf', Buffer.from('<html>%PDF-1.4</html>')],
			['image/png', Buffer.from([0x89, 0x50])] // too short to be one
		];
		for (const [type, bytes] of lies) {
			const id = uploadId();
			const res = await postUpload(server.url, bytes, { token: ada.token, type, id });
			expect([type, res.status, res.body.reason]).toEqual([type, 415, 'invalid']);
			await expectNothingStored(id);
		}
	});

	test('refuses text/plain with a NUL byte or bytes that are not UTF-8 with 415', async () => {
		for (const bytes of [Buffer.from('line\0more'), Buffer.from([0x68, 0x69, 0xff, 0xfe]), Buffer.from([0x61, 0xc3])]) {
			const res = await postUpload(server.url, bytes, { token: ada.token, type: 'text/plain' });
			expect(res).toMatchObject({ status: 415, body: { reason: 'invalid' } });
			expect(res.body.message).toMatch(/UTF-8 without NUL/);
		}
	});

	test('refuses a lie found after a MiB of a chunked body at once, without the rest', async () => {
		const id = uploadId();
		const { req, response } = openUpload(server.url, { token: ada.token, type: 'text/plain', id });
		req.write(Buffer.alloc(MiB, 'a'));
		req.write(Buffer.from([0]));
		expect(await response).toMatchObject({ status: 415, body: { reason: 'invalid' } });
		req.destroy();
		await expectNothingStored(id);
	});

	test('refuses an empty file', async () => {
		const res = await postUpload(server.url, Buffer.alloc(0), { token: ada.token, type: 'text/plain' });
		expect(res).toMatchObject({ status: 400, body: { reason: 'invalid', message: 'the file is empty' } });
	});

	test('answers 401 unauthorized without a valid token or cookie', async () => {
		for (const token of [undefined, 'not-a-token']) {
			const res = await postUpload(server.url, fileOf('image/png', 100), { token, type: 'image/png' });
			expect(res).toMatchObject({ status: 401, body: { reason: 'unauthorized' } });
		}
	});

	test('takes the session cookie as well as the Bearer header, from this site only (Origin: CSRF)', async () => {
		const cookie = `outbox_token=${ada.token}`;
		const res = await postUpload(server.url, fileOf('image/png', 100), { cookie, type: 'image/png', headers: { origin: server.url } });
		expect(res.status).toBe(201);
		for (const headers of [{}, { origin: 'https://evil.example' }] as Record<string, string>[]) {
			const foreign = await postUpload(server.url, fileOf('image/png', 100), { cookie, type: 'image/png', headers });
			expect(foreign).toMatchObject({ status: 403, body: { reason: 'forbidden' } });
		}
	});

	test('answers 405 to other methods on /api/uploads', async () => {
		const res = await fetch(`${server.url}/api/uploads`, { method: 'PUT', headers: { authorization: `Bearer ${ada.token}` } });
		expect(res.status).toBe(405);
		expect(res.headers.get('allow')).toBe('POST');
	});
});

describe('uploads that do not finish', () => {
	test('a client that goes away mid-upload leaves nothing behind', async () => {
		const id = uploadId();
		const bytes = fileOf('image/png', 4 * MiB);
		const { req, response } = openUpload(server.url, { token: ada.token, type: 'image/png', id, contentLength: bytes.length });
		req.write(bytes.subarray(0, 2 * MiB));
		await until(() => filesIn(stagingOf(server.dataDir)).length === 1, 3000, 'the body being staged');
		req.destroy();
		await response.catch(() => {});
		await expectNothingStored(id);
		expect(filesIn(uploadsOf(server.dataDir)).every((name) => name !== id)).toBe(true);
	});

	test('a client that stops sending is refused with 408 after the idle timeout and leaves nothing', async () => {
		const id = uploadId();
		const { req, response } = openUpload(server.url, { token: ada.token, type: 'image/png', id, contentLength: 1000 });
		req.write(fileOf('image/png', 100));
		expect(await response).toMatchObject({ status: 408, body: { reason: 'invalid' } });
		req.destroy();
		await expectNothingStored(id);
	});
});
