/**
 * A channel the server closes (`phx_close`) is joined again by the kit while
 * it is wanted. Phoenix (and this server) close the older channel when one
 * topic is joined twice with one join_ref; phoenix.js then drops the channel
 * for good, and the kit used to wait on it for ever: the lane's actions
 * stayed queued while the socket was up (found by the fault schedules, a
 * duplicated `phx_join` frame).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createPhoenixTransport } from '../../../src/lib/outbox/adapters/index.js';
import { createOutbox, REJOIN_AFTER_CLOSE_MS } from '../../../src/lib/outbox/index.js';
import { chatActions, createChat } from '../../../src/lib/chat/index.js';
import { MemoryStorage } from '../../../src/lib/outbox/testing/memory-storage.js';
import { seededRandom } from '../../../src/lib/outbox/testing/seeded-random.js';
import { joinRoom, startServer, syncAll, until, type TestServer } from '../chat/harness.js';
import { startFaultProxy, type FaultProxy } from '../../faults/fault-proxy.js';

describe('a channel the server closed', () => {
	let server: TestServer;
	let proxy: FaultProxy;
	beforeAll(async () => {
		server = await startServer();
		proxy = await startFaultProxy({ target: () => Number(new URL(server.url).port), random: seededRandom(1) });
	});
	afterAll(async () => {
		await proxy?.close();
		await server?.close();
	});

	it('is joined again, and the actions waiting on it are sent', async () => {
		const { token, user } = await server.signIn('rejoiner');
		proxy.duplicateNext('phx_join'); // the server joins twice and closes the first channel: same join_ref
		const outbox = createOutbox({
			actions: chatActions,
			deps: {
				storage: new MemoryStorage(),
				transport: createPhoenixTransport({
					endpoint: `ws://127.0.0.1:${proxy.port}/socket`,
					token: () => token,
					socketOptions: { transport: WebSocket as never, heartbeatIntervalMs: 1000, reconnectAfterMs: () => 30, rejoinAfterMs: () => 30 }
				})
			},
			user,
			pushTimeoutMs: 3000,
			eventTarget: null
		});
		const chat = createChat(outbox, { rejectedStore: null });
		const room = chat.room('room:closed-once');
		await until(() => outbox.connection.get().status === 'connected', 5000, 'connected');
		await until(() => proxy.counts.duplicated === 1, 5000, 'the join sent twice');
		const item = await outbox.add('send_message', 'room:closed-once', { body: 'after the close' });
		await until(() => outbox.count === 0, 5000 + REJOIN_AFTER_CLOSE_MS, 'the queue drained');

		const socket = server.connect(token);
		const { messages } = await syncAll(await joinRoom(socket, 'closed-once'), null);
		expect(messages.map((m: { client_id: string }) => m.client_id)).toEqual([item.id]);
		await until(() => room.messages.some((m) => m.clientId === item.id && m.status === 'sent'), 5000, 'the view shows it sent');
		chat.close();
		await outbox.close();
	}, 30_000);
});
