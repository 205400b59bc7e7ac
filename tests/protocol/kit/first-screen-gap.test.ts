/**
 * A room's first screen is the newest page of history even when the room
 * already holds some messages: a follower tab whose join is slow hears the
 * leader's confirmed actions (their replies, through the tabs' channel)
 * before its own join, and used to ask only for history older than those,
 * leaving out for good what others sent between them and its join (found by
 * the fault schedules, seed 34: a delayed `phx_join`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createPhoenixTransport } from '../../../src/lib/outbox/adapters/index.js';
import { createOutbox, type Outbox } from '../../../src/lib/outbox/index.js';
import { chatActions, createChat, type Chat, type ChatActions } from '../../../src/lib/chat/index.js';
import { MemoryStorage } from '../../../src/lib/outbox/testing/memory-storage.js';
import { seededRandom } from '../../../src/lib/outbox/testing/seeded-random.js';
import { TabHub } from '../../unit/outbox/runtime/harness.js';
import { cid, joinRoom, push, syncAll, until, startServer, type TestServer } from '../chat/harness.js';
import { startFaultProxy, type FaultProxy } from '../../faults/fault-proxy.js';

describe("a follower tab whose join is slow", () => {
	let server: TestServer;
	let proxy: FaultProxy;
	const tabs: Array<{ outbox: Outbox<ChatActions>; chat: Chat }> = [];
	beforeAll(async () => {
		server = await startServer();
		proxy = await startFaultProxy({ target: () => Number(new URL(server.url).port), random: seededRandom(2) });
	});
	afterAll(async () => {
		for (const tab of tabs) {
			tab.chat.close();
			await tab.outbox.close();
		}
		await proxy?.close();
		await server?.close();
	});

	it("shows what others sent before its join, after the leader's own messages it heard of first", async () => {
		const ann = await server.signIn('slowjoin-ann');
		const bob = await server.signIn('slowjoin-bob');
		const storage = new MemoryStorage();
		const hub = new TabHub();
		const open = () => {
			const outbox: Outbox<ChatActions> = createOutbox({
				actions: chatActions,
				deps: {
					storage,
					tabs: hub.tab(),
					transport: createPhoenixTransport({
						endpoint: `ws://127.0.0.1:${proxy.port}/socket`,
						token: () => ann.token,
						socketOptions: { transport: WebSocket as never, reconnectAfterMs: () => 30, rejoinAfterMs: () => 30, timeout: 10_000 }
					})
				},
				user: ann.user,
				eventTarget: null
			});
			const chat = createChat(outbox, { rejectedStore: null });
			tabs.push({ outbox, chat });
			return { outbox, room: chat.room('room:slowjoin') };
		};
		const leader = open();
		await until(() => leader.outbox.session.get().phase === 'leader' && leader.outbox.connection.get().status === 'connected', 5000, 'the leader');
		await until(() => leader.outbox.deps.transport.channelState('room:slowjoin') === 'joined', 5000, "the leader's room");

		proxy.delayJoins(1500); // the follower's joins reach the server late
		const follower = open();
		await until(() => follower.outbox.session.get().phase === 'follower', 5000, 'the follower');
		const own = await leader.outbox.add('send_message', 'room:slowjoin', { body: 'mine' });
		await until(() => follower.room.messages.some((m) => m.clientId === own.id && m.status === 'sent'), 5000, "the follower hears the leader's reply");
		const channel = await joinRoom(server.connect(bob.token), 'slowjoin');
		const others = [cid('b'), cid('b')];
		for (const client_id of others) expect((await push(channel, 'send_message', { client_id, body: 'from bob' })).status).toBe('ok');
		proxy.delayJoins(0);

		const { messages } = await syncAll(channel, null);
		const truth = messages.map((m: { client_id: string }) => m.client_id);
		expect(truth).toEqual([own.id, ...others]);
		await until(() => follower.outbox.deps.transport.channelState('room:slowjoin') === 'joined', 10_000, "the follower's join");
		await until(() => follower.room.messages.length === truth.length, 5000, "the follower's view").catch(() => {});
		expect(follower.room.messages.map((m) => m.clientId)).toEqual(truth);
	}, 30_000);
});
