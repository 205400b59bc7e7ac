/**
 * A subscriber that stops reading is cut off once 8 MB of frames queue up
 * for it, so one frozen peer cannot make the server buffer broadcasts
 * without bound; readers in the same topic keep getting everything.
 */
import { afterEach, expect, test } from 'vitest';
import { MAX_BUFFERED_BYTES } from '../../src/lib/server/channels/connection.js';
import { openRaw } from './helpers/raw-client.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';
import { waitFor } from './helpers/wait.js';

let server: TestServer | undefined;
afterEach(async () => {
	await server?.close();
	server = undefined;
});

test('a subscriber that stops reading is terminated; a reading one is not', async () => {
	server = await startTestServer();
	const stalled = await openRaw(`${server.wsUrl}&token=stalled`);
	const reader = await openRaw(`${server.wsUrl}&token=reader`);
	let readerGot = 0;
	reader.ws.on('message', () => readerGot++);
	for (const client of [stalled, reader]) client.ws.send(JSON.stringify(['1', '1', 'room:slow', 'phx_join', {}]));
	await waitFor(() => server!.textFrames('out', (f) => f[3] === 'phx_reply' && f[2] === 'room:slow').length === 2, 'two joins');
	// Stop reading: the kernel buffers fill, then ws starts queueing on the server.
	(stalled.ws as unknown as { _socket: { pause(): void } })._socket.pause();

	const blob = 'x'.repeat(256 * 1024);
	const frames = Math.ceil((MAX_BUFFERED_BYTES * 3) / blob.length);
	const before = server.channels.connectionCount;
	for (let i = 0; i < frames; i++) {
		server.channels.broadcast('room:slow', 'blob', { i, blob });
		await new Promise((r) => setImmediate(r));
	}
	await waitFor(() => server!.channels.connectionCount === before - 1, 'the stalled socket cut off', 10_000);
	await waitFor(() => readerGot >= frames, 'the reader got every broadcast', 10_000);
	expect(server.channels.connectionCount).toBe(1);
	expect(readerGot).toBeGreaterThanOrEqual(frames);
});
