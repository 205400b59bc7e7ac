/**
 * A channel handles one event at a time, as a Phoenix channel process does:
 * pushes sent back to back are handled, and answered, in the order sent even
 * when an earlier handler is slower than a later one.
 */
import { afterEach, expect, test } from 'vitest';
import { CLIENTS, joinOutcome, makeSocket, pushOutcome } from './helpers/clients.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

let server: TestServer | undefined;
afterEach(async () => {
	await server?.close();
	server = undefined;
});

test('async handlers on one channel run one at a time, in arrival order', async () => {
	server = await startTestServer();
	const socket = makeSocket(CLIENTS[0]!, server.endpoint, { params: { token: 'u1' }, timeout: 5000 });
	socket.connect();
	const channel = socket.channel('room:order');
	expect((await joinOutcome(channel)).status).toBe('ok');

	const replies: string[] = [];
	const pushes = [300, 10, 150, 0].map((ms, i) =>
		pushOutcome(channel, 'late', { ms }).then((outcome) => {
			replies.push(`${i}:${outcome.status}`);
		})
	);
	await Promise.all(pushes);
	expect(replies).toEqual(['0:ok', '1:ok', '2:ok', '3:ok']);
	const handled = server.log.filter((e) => e.type === 'handled' && e.event === 'late');
	expect(handled).toHaveLength(4);
	socket.disconnect();
});
