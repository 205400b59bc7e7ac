/**
 * The upload quota at its real number: 100 MiB per user in any rolling
 * 24 h, the current file included, under a clock the test moves.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { LIMITS } from '../../../src/lib/protocol/index.js';
import { startServer, type TestServer } from '../chat/harness.js';
import { fileOf, manualClock, openUpload, postUpload, stagingOf, filesIn, uploadId } from './helpers.js';

const MiB = 1024 * 1024;
const HOUR = 60 * 60 * 1000;
const clock = manualClock();
let server: TestServer;
let ada: { token: string; user: { id: string; name: string } };

beforeAll(async () => {
	server = await startServer({}, { uploads: { now: clock.now, sweepIntervalMs: 0 } });
	ada = await server.signIn('Ada');
});
afterAll(() => server.close());

const tenMiB = (fill: number, id = uploadId()) =>
	postUpload(server.url, fileOf('application/pdf', 10 * MiB, fill), { token: ada.token, type: 'application/pdf', id });

test(`takes ${LIMITS.uploadQuotaBytes} bytes (100 MiB) a user in any rolling 24 h, and refuses the next byte with 429`, async () => {
	expect(LIMITS.uploadQuotaBytes).toBe(100 * MiB);
	const firstId = uploadId();
	for (let i = 0; i < 5; i++) expect((await tenMiB(i, i === 0 ? firstId : undefined)).status).toBe(201);
	clock.advance(12 * HOUR);
	for (let i = 5; i < 10; i++) expect((await tenMiB(i)).status).toBe(201);

	// Full: one more byte is refused before its body is read, and says when room frees up (12 h from now).
	const one = await postUpload(server.url, Buffer.from('x'), { token: ada.token, type: 'text/plain' });
	expect(one).toMatchObject({ status: 429, body: { reason: 'rate_limited' } });
	expect(one.headers.get('retry-after')).toBe(String(12 * 3600));

	// Sent chunked (no length to go by), it is refused once its bytes arrive, and nothing is kept.
	const { req, response } = openUpload(server.url, { token: ada.token, type: 'text/plain' });
	req.write('some text');
	expect(await response).toMatchObject({ status: 429, body: { reason: 'rate_limited' } });
	req.destroy();
	expect(filesIn(stagingOf(server.dataDir))).toEqual([]);

	// A retry of a stored upload is no new upload: the quota does not apply.
	const replay = await tenMiB(0, firstId);
	expect(replay.status).toBe(201);

	// Just before the first five are 24 h old the window still holds them; just after, it does not.
	clock.advance(12 * HOUR - 1);
	expect((await postUpload(server.url, Buffer.from('x'), { token: ada.token, type: 'text/plain' })).status).toBe(429);
	clock.advance(2);
	// 50 MiB left the window: five more 10 MiB files fit, then not a byte.
	for (let i = 20; i < 25; i++) expect((await tenMiB(i)).status).toBe(201);
	expect((await postUpload(server.url, Buffer.from('x'), { token: ada.token, type: 'text/plain' })).status).toBe(429);
}, 120_000);

test('counts each user on their own', async () => {
	const bob = await server.signIn('Bob');
	const res = await postUpload(server.url, fileOf('image/png', MiB), { token: bob.token, type: 'image/png' });
	expect(res.status).toBe(201);
});
