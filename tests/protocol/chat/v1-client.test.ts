/**
 * A second, independent Phoenix client against the real Outbox server:
 * `phoenix-channels` from npm, a Node port of the Phoenix 1.2 client that
 * speaks the V1 serializer (`vsn=1.0.0`, object frames, no join_ref) over its
 * WebSocket given as its `transport` (`ws` here: package.json overrides its
 * `websocket` dependency, whose native install scripts we do not run), with
 * the token as a connect param. It chats with a user on the official V2 client.
 */
import { Socket as V1Socket, type Channel as V1Channel } from 'phoenix-channels';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { cid, collect, joinRoom, push, startServer, syncAll, until, type Reply, type TestServer } from './harness.js';

let server: TestServer;
const v1Sockets: V1Socket[] = [];

beforeAll(async () => {
	server = await startServer();
});
afterAll(async () => {
	for (const socket of v1Sockets) socket.disconnect();
	await server.close();
});

function connectV1(token: string, heartbeatIntervalMs = 30_000): V1Socket {
	const socket = new V1Socket(server.wsUrl, { transport: WebSocket, params: { token }, timeout: 3000, heartbeatIntervalMs, reconnectAfterMs: () => 50 });
	socket.connect();
	v1Sockets.push(socket);
	return socket;
}

function joinV1(channel: V1Channel): Promise<Reply> {
	return new Promise((resolve) => {
		channel
			.join()
			.receive('ok', (response) => resolve({ status: 'ok', response }))
			.receive('error', (response) => resolve({ status: 'error', response }))
			.receive('timeout', () => resolve({ status: 'timeout', response: null }));
	});
}

function pushV1(channel: V1Channel, event: string, payload: object): Promise<Reply> {
	return new Promise((resolve) => {
		channel
			.push(event, payload)
			.receive('ok', (response) => resolve({ status: 'ok', response }))
			.receive('error', (response) => resolve({ status: 'error', response }))
			.receive('timeout', () => resolve({ status: 'timeout', response: null }));
	});
}

function collectV1(channel: V1Channel, event: string): any[] {
	const seen: any[] = [];
	channel.on(event, (payload) => void seen.push(payload));
	return seen;
}

describe('phoenix-channels (V1) beside the official client (V2)', () => {
	test('joins, sends, hears the other user, gets changes and a sync page, and is told invalid', async () => {
		const ann = await server.signIn('AnnV1');
		const bob = await server.signIn('BobV2');
		const annSocket = connectV1(ann.token);
		const annRoom = annSocket.channel('room:v1-chat', {});
		const annHeard = collectV1(annRoom, 'new_message');
		const annChanges = collectV1(annRoom, 'changes');
		expect(await joinV1(annRoom)).toEqual({ status: 'ok', response: { room: 'v1-chat' } });
		const bobRoom = await joinRoom(server.connect(bob.token), 'v1-chat');
		const bobHeard = collect(bobRoom, 'new_message');
		const bobChanges = collect(bobRoom, 'changes');

		const sent = await pushV1(annRoom, 'send_message', { client_id: cid('v1'), body: 'hello from V1' });
		expect(sent.status).toBe('ok');
		expect(sent.response.message).toMatchObject({ body: 'hello from V1', seq: 1, author: { id: ann.user.id, name: 'AnnV1' } });
		await until(() => bobHeard.length === 1, 3000, 'new_message on the V2 client');
		expect(bobHeard).toEqual([{ message: sent.response.message }]);

		const answer = await push(bobRoom, 'send_message', { client_id: cid('v2'), body: 'hello from V2' });
		await until(() => annHeard.length === 1, 3000, 'new_message on the V1 client');
		// Only Bob's: Ann's own message came back in her reply.
		expect(annHeard).toEqual([{ message: answer.response.message }]);

		const batch = await pushV1(annRoom, 'send_batch', {
			actions: ['b1', 'b2'].map((body) => ({ client_id: cid('v1b'), type: 'send_message', payload: { body } }))
		});
		const messages = batch.response.results.map((r: any) => r.message);
		expect(messages.map((m: any) => m.seq)).toEqual([3, 4]);
		await until(() => bobChanges.length === 1, 3000, 'changes on the V2 client');
		expect(bobChanges).toEqual([{ messages }]);

		const refused = await pushV1(annRoom, 'send_message', { client_id: cid('v1'), body: '' });
		expect(refused).toMatchObject({ status: 'error', response: { reason: 'invalid' } });

		const page = new Promise<any>((resolve) => annRoom.on('sync:complete', resolve));
		expect(await pushV1(annRoom, 'sync', { since: null })).toEqual({ status: 'ok', response: {} });
		const synced = await page;
		expect(synced).toMatchObject({ complete: true, unread_count: 1 });
		expect(synced.messages.map((m: any) => m.body)).toEqual(['hello from V1', 'hello from V2', 'b1', 'b2']);
		expect((await syncAll(bobRoom)).messages).toEqual(synced.messages);
		expect(annChanges).toEqual([]);
	});

	test('heartbeats are answered (the client would drop a silent link), and a bad token is refused', async () => {
		const ann = await server.signIn('AnnBeat');
		const socket = connectV1(ann.token, 100);
		const closes: unknown[] = [];
		const beats: unknown[] = [];
		socket.onClose((event) => void closes.push(event));
		socket.onMessage((frame) => {
			if (frame.topic === 'phoenix' && frame.event === 'phx_reply') beats.push(frame);
		});
		await until(() => socket.isConnected(), 3000, 'V1 socket open');
		expect((await joinV1(socket.channel('room:v1-beat', {}))).status).toBe('ok');
		// The client closes its socket when a heartbeat goes unanswered until the next one.
		await until(() => beats.length >= 3, 3000, 'three heartbeat replies');
		expect(beats[0]).toEqual({ topic: 'phoenix', event: 'phx_reply', payload: { status: 'ok', response: {} }, ref: expect.any(String), join_ref: null });
		expect(closes).toEqual([]);
		expect(socket.isConnected()).toBe(true);

		const refused = connectV1('not-a-token');
		const errors: unknown[] = [];
		refused.onError((error) => void errors.push(error));
		await until(() => errors.length > 0, 3000, 'refused connect');
		expect(refused.isConnected()).toBe(false);
		refused.disconnect();
	});
});
