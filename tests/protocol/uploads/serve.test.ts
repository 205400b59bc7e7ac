/**
 * `GET /api/uploads/<id>` on the real server: the headers that keep a file
 * from running or being sniffed, ETag revalidation, the cookie a plain
 * `<img>` sends, and the orphan sweep under a clock the test moves.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { cid, joinRoom, push, startServer, until, type TestServer } from '../chat/harness.js';
import { fileOf, getUpload, manualClock, postUpload, sha256, uploadsOf } from './helpers.js';

let server: TestServer;
let ada: { token: string; user: { id: string; name: string } };
let clock: ReturnType<typeof manualClock>;
const DAY = 24 * 60 * 60 * 1000;

/** A server of its own per describe block, its upload clock in the test's hands. */
function withServer(sweepIntervalMs = 0) {
	beforeAll(async () => {
		clock = manualClock();
		server = await startServer({}, { uploads: { now: clock.now, sweepIntervalMs } });
		ada = await server.signIn('Ada');
	});
	afterAll(() => server.close());
}

async function upload(type: string, name: string, size = 900) {
	const bytes = fileOf(type, size);
	const res = await postUpload(server.url, bytes, { token: ada.token, type, name: encodeURIComponent(name) });
	expect(res.status).toBe(201);
	return { ...res.body.upload, bytes };
}

describe('serving a file', () => {
	withServer();
	test('an image: its type, inline, nosniff, a sandbox CSP, an ETag of its hash, the exact bytes', async () => {
		const file = await upload('image/png', 'cat.png', 70_000);
		const res = await getUpload(server.url, file.id, { token: ada.token });
		expect(res.status).toBe(200);
		expect(sha256(res.bytes)).toBe(sha256(file.bytes));
		expect(Object.fromEntries(['content-type', 'content-length', 'x-content-type-options', 'content-security-policy', 'content-disposition', 'etag', 'cache-control'].map((h) => [h, res.headers.get(h)]))).toEqual({
			'content-type': 'image/png',
			'content-length': '70000',
			'x-content-type-options': 'nosniff',
			'content-security-policy': 'sandbox',
			'content-disposition': 'inline; filename=cat.png',
			etag: `"${sha256(file.bytes)}"`,
			'cache-control': 'private, no-cache'
		});
	});

	test('everything but images as an attachment; text as UTF-8', async () => {
		const pdf = await getUpload(server.url, (await upload('application/pdf', 'report.pdf')).id, { token: ada.token });
		expect(pdf.headers.get('content-type')).toBe('application/pdf');
		expect(pdf.headers.get('content-disposition')).toBe('attachment; filename=report.pdf');
		expect(pdf.headers.get('content-security-policy')).toBe('sandbox');
		const text = await getUpload(server.url, (await upload('text/plain', 'notes.txt')).id, { token: ada.token });
		expect(text.headers.get('content-type')).toBe('text/plain; charset=utf-8');
		expect(text.headers.get('content-disposition')).toBe('attachment; filename=notes.txt');
	});

	test('a safe filename: non-ASCII as filename*, and the extension of the type it is served as', async () => {
		const res = await getUpload(server.url, (await upload('image/jpeg', 'Ünï "quoted".jpeg')).id, { token: ada.token });
		expect(res.headers.get('content-disposition')).toBe(`inline; filename="?n? _quoted_.jpeg"; filename*=UTF-8''%C3%9Cn%C3%AF%20_quoted_.jpeg`);
		const disguised = await getUpload(server.url, (await upload('application/pdf', 'invoice.exe')).id, { token: ada.token });
		expect(disguised.headers.get('content-disposition')).toBe('attachment; filename=invoice.exe.pdf');
	});

	test('answers 304 to a matching If-None-Match (also weak or in a list), 200 to another', async () => {
		const file = await upload('image/gif', 'a.gif');
		const etag = `"${file.sha256}"`;
		for (const header of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
			const res = await getUpload(server.url, file.id, { token: ada.token, headers: { 'if-none-match': header } });
			expect([header, res.status, res.bytes.length, res.headers.get('etag')]).toEqual([header, 304, 0, etag]);
		}
		const stale = await getUpload(server.url, file.id, { token: ada.token, headers: { 'if-none-match': '"old"' } });
		expect(stale.status).toBe(200);
	});

	test('takes the session cookie, as an <img> sends it; without a session, the 404 of an unknown id', async () => {
		const file = await upload('image/webp', 'a.webp');
		expect((await getUpload(server.url, file.id, { cookie: `outbox_token=${ada.token}` })).status).toBe(200);
		for (const auth of [{}, { token: 'not-a-token' }, { cookie: 'outbox_token=forged' }]) {
			const refused = await getUpload(server.url, file.id, auth);
			expect([refused.status, JSON.parse(refused.bytes.toString())]).toEqual([404, { reason: 'invalid', message: 'no such upload' }]);
		}
	});

	test('HEAD gives the headers without the bytes; 404 for ids that name nothing', async () => {
		const file = await upload('image/png', 'h.png', 1234);
		const head = await fetch(`${server.url}/api/uploads/${file.id}`, { method: 'HEAD', headers: { authorization: `Bearer ${ada.token}` } });
		expect([head.status, head.headers.get('content-length'), (await head.arrayBuffer()).byteLength]).toEqual([200, '1234', 0]);
		for (const id of ['nosuchuploadnosuchupload', '..%2F..%2Foutbox.db', '.staging', 'x']) {
			expect((await getUpload(server.url, id, { token: ada.token })).status).toBe(404);
		}
		const post = await fetch(`${server.url}/api/uploads/${file.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${ada.token}` } });
		expect(post.status).toBe(405);
	});
});

describe('orphans', () => {
	withServer();
	test('the sweep removes files no message named after 24 h, keeps named and younger ones', async () => {
		const channel = await joinRoom(server.connect(ada.token), 'sweep');
		const named = await upload('image/png', 'named.png');
		const orphan = await upload('image/png', 'orphan.png');
		await push(channel, 'send_message', { client_id: cid(), body: 'keep', attachments: [named.id] });
		clock.advance(DAY - 1000);
		const young = await upload('image/png', 'young.png');
		expect(await server.outbox.uploads.sweep()).toBe(0);

		clock.advance(2000); // the first two are now over 24 h old, `young` is not
		expect(await server.outbox.uploads.sweep()).toBe(1);
		const status = async (id: string) => (await getUpload(server.url, id, { token: ada.token })).status;
		expect([await status(named.id), await status(orphan.id), await status(young.id)]).toEqual([200, 404, 200]);
		expect(existsSync(join(uploadsOf(server.dataDir), orphan.id))).toBe(false);
		expect(existsSync(join(uploadsOf(server.dataDir), named.id))).toBe(true);

		// A file whose message was sent after the file was made, then deleted: an orphan again.
		const sent = await push(channel, 'send_message', { client_id: cid(), body: 'then gone', attachments: [young.id] });
		await push(channel, 'delete_message', { client_id: cid(), id: sent.response.message.id, base_version: 1 });
		clock.advance(DAY);
		expect(await server.outbox.uploads.sweep()).toBe(1);
		expect(await status(young.id)).toBe(404);
	});
});

describe('the periodic sweep', () => {
	withServer(50);

	test('runs on its own every sweepIntervalMs, with nobody calling it', async () => {
		const orphan = await upload('image/png', 'left.png');
		const status = async () => (await getUpload(server.url, orphan.id, { token: ada.token })).status;
		expect(await status()).toBe(200);
		clock.advance(DAY + 1);
		// The record goes first, then its bytes: wait for both.
		const path = join(uploadsOf(server.dataDir), orphan.id);
		await until(async () => (await status()) === 404 && !existsSync(path), 5000, 'the periodic sweep to remove the orphan');
		expect(existsSync(path)).toBe(false);
	});
});
