/**
 * PROTOCOL.md §7 item 30: the LongPoll transport, with the unmodified
 * official client (`transport: LongPoll`, and `longPollFallbackMs` against a
 * server whose WebSocket upgrades a proxy kills), and raw HTTP for the parts
 * a client cannot drive (§4.10: status in the body, 410 to open, 403 refused,
 * held GETs, ndjson POSTs, sessions that are gone).
 */
import { LongPoll } from 'phoenix';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createPhoenixTransport } from '../../src/lib/outbox/adapters/index.js';
import { createOutbox } from '../../src/lib/outbox/index.js';
import { chatActions } from '../../src/lib/chat/index.js';
import { MemoryStorage } from '../../src/lib/outbox/testing/memory-storage.js';
import { socketKeyFor } from '../../src/lib/server/app.js';
import { cid, collect, joinRoom, push, startServer, syncAll, until, type TestServer } from './chat/harness.js';

let server: TestServer;

afterEach(async () => {
	await server?.close();
});

/** The official client over LongPoll (the harness's client, transport swapped; the server closes it after). */
const longPollSocket = (token: string) => server.connect(token, { transport: LongPoll, timeout: 5000 });

async function poll(path: string, init: RequestInit = {}) {
	const res = await fetch(server.url + path, init);
	return { http: res.status, cacheControl: res.headers.get('cache-control'), body: (await res.json()) as { status: number; token?: string; messages?: string[] } };
}

describe('LongPoll with the official client', () => {
	it("connects, joins, pushes and hears the other's broadcasts both ways with a WebSocket client in the same room", async () => {
		server = await startServer();
		const ann = await server.signIn('ann');
		const bob = await server.signIn('bob');
		const viaPoll = longPollSocket(ann.token);
		await until(() => viaPoll.isConnected(), 5000, 'longpoll open');
		const pollRoom = await joinRoom(viaPoll, 'lp-room');
		const viaWs = server.connect(bob.token);
		const wsRoom = await joinRoom(viaWs, 'lp-room');
		const heardByPoll = collect(pollRoom, 'new_message');
		const heardByWs = collect(wsRoom, 'new_message');

		const sent = await push(pollRoom, 'send_message', { client_id: cid('a'), body: 'over http' });
		expect(sent.status).toBe('ok');
		expect(sent.response.message).toMatchObject({ body: 'over http', seq: 1, author: { id: ann.user.id } });
		await push(wsRoom, 'send_message', { client_id: cid('b'), body: 'over ws' });

		await until(() => heardByPoll.length === 1 && heardByWs.length === 1, 5000, 'both broadcasts');
		// Each hears the other's message; its own came back in its reply (broadcast_from).
		expect(heardByPoll.map((p) => [p.message.body, p.message.seq])).toEqual([['over ws', 2]]);
		expect(heardByWs.map((p) => [p.message.body, p.message.seq])).toEqual([['over http', 1]]);
		// A refusal is a reply like any other, and the session stays up.
		const refused = await push(pollRoom, 'send_message', { client_id: cid('a'), body: '' });
		expect(refused).toMatchObject({ status: 'error', response: { reason: 'invalid' } });
		expect(viaPoll.isConnected()).toBe(true);
	});

	it('falls back to LongPoll when a proxy kills every WebSocket upgrade, and the chat works over it', async () => {
		server = await startServer();
		const ann = await server.signIn('ann');
		// The proxy: every upgrade is cut before the server sees it.
		server.http.removeAllListeners('upgrade');
		server.http.on('upgrade', (_request, socket) => socket.destroy());
		const direct = new WebSocket(server.wsUrl + '/websocket?vsn=2.0.0');
		await expect(new Promise((resolve, reject) => (direct.on('open', resolve), direct.on('error', reject)))).rejects.toThrow();

		// The harness's WebSocket client, with the fallback the official client offers.
		const socket = server.connect(ann.token, { longPollFallbackMs: 300, timeout: 5000 });
		await until(() => socket.isConnected(), 8000, 'connected through the fallback');
		expect((socket as unknown as { transport: unknown }).transport).toBe(LongPoll);
		const room = await joinRoom(socket, 'fallback');
		const reply = await push(room, 'send_message', { client_id: cid('f'), body: 'through the fallback' });
		expect(reply).toMatchObject({ status: 'ok', response: { message: { body: 'through the fallback', seq: 1 } } });
	});

	it('a signed-out user (DELETE /api/session) loses the session at once and is refused on reconnect', async () => {
		server = await startServer();
		const ann = await server.signIn('ann');
		const closes: number[] = [];
		const socket = longPollSocket(ann.token);
		socket.onClose((event: { code: number }) => void closes.push(event.code));
		await until(() => socket.isConnected(), 5000, 'open');
		await joinRoom(socket, 'kick');
		expect(server.outbox.channels.connectionCount).toBe(1);
		const out = await server.api('DELETE', '/api/session', undefined, ann.token);
		expect(out.status).toBeLessThan(300);
		await until(() => closes.includes(3410), 5000, 'session_gone close');
		await until(() => server.outbox.channels.connectionCount === 0, 5000, 'no connection left');
		// The revoked token does not open a new session.
		const again = await poll('/socket/longpoll?vsn=2.0.0', { headers: { 'x-phoenix-authtoken': ann.token } });
		expect(again.body).toEqual({ status: 403 });
	});
});

describe('the kit over LongPoll', () => {
	it('delivers 60 actions over 2 rooms exactly once and in order while its sessions are killed 3 times', async () => {
		server = await startServer();
		const { token, user } = await server.signIn('kit-poller');
		const transport = createPhoenixTransport({
			endpoint: server.wsUrl,
			token: () => token,
			socketOptions: { transport: LongPoll as never, reconnectAfterMs: () => 30, rejoinAfterMs: () => 30, timeout: 5000 }
		});
		const outbox = createOutbox({
			actions: chatActions,
			deps: { storage: new MemoryStorage(), transport },
			user,
			pushTimeoutMs: 5000,
			retry: { baseMs: 50, capMs: 400, networkDelayMs: 50, maxRetries: 20 },
			eventTarget: null
		});
		await outbox.ready;
		await until(() => outbox.connection.get().status === 'connected', 5000, 'connected over LongPoll');
		const made: Record<string, string[]> = { 'room:poll-a': [], 'room:poll-b': [] };
		for (let i = 0; i < 60; i++) {
			const topic = i % 3 === 0 ? 'room:poll-b' : 'room:poll-a';
			made[topic]!.push((await outbox.add('send_message', topic, { body: `action ${i}` })).id);
			if (i % 20 === 10) {
				await until(() => server.outbox.channels.connectionCount > 0, 5000, 'a session to kill');
				server.outbox.channels.disconnect(socketKeyFor(user.id));
			}
		}
		await until(() => outbox.count === 0, 15_000, 'the queue drained');
		const socket = server.connect(token);
		for (const [topic, ids] of Object.entries(made)) {
			const { messages } = await syncAll(await joinRoom(socket, topic.slice('room:'.length)), null);
			expect(messages.map((m: { client_id: string }) => m.client_id)).toEqual(ids);
		}
		await outbox.close();
	}, 30_000);
});

describe('LongPoll on the wire (PROTOCOL.md §4.10)', () => {
	it('opens with 410 and a session token, holds a GET until a frame, takes ndjson POSTs; status always in the body', async () => {
		server = await startServer();
		const ann = await server.signIn('ann');
		const open = await poll('/socket/longpoll?vsn=2.0.0&', { headers: { 'x-phoenix-authtoken': ann.token, accept: 'application/json' } });
		expect(open.http).toBe(200);
		expect(open.cacheControl).toBe('no-store');
		expect(open.body).toEqual({ status: 410, token: expect.stringMatching(/^lp[A-Za-z0-9_-]+$/), messages: [] });
		const session = open.body.token!;

		const held = poll(`/socket/longpoll?vsn=2.0.0&token=${session}`);
		await new Promise((r) => setTimeout(r, 100));
		const posted = await poll(`/socket/longpoll?vsn=2.0.0&token=${session}`, {
			method: 'POST',
			headers: { 'content-type': 'application/x-ndjson' },
			body: ['["1","1","room:wire","phx_join",{}]', '["1","2","room:wire","send_message",{"client_id":"w1","body":"hi"}]', '[null,"3","phoenix","heartbeat",{}]'].join('\n')
		});
		expect(posted.body).toEqual({ status: 200 });
		let got = await held;
		const frames: unknown[][] = got.body.messages!.map((m) => JSON.parse(m));
		// Whatever did not fit the first answer comes with the next poll.
		while (frames.length < 3) {
			got = await poll(`/socket/longpoll?vsn=2.0.0&token=${session}`);
			frames.push(...got.body.messages!.map((m) => JSON.parse(m)));
		}
		expect(got.body.status).toBe(200);
		expect(got.body.token).toBe(session);
		expect(frames).toContainEqual(['1', '1', 'room:wire', 'phx_reply', { status: 'ok', response: { room: 'wire' } }]);
		// The join is answered before the push that queued behind it.
		const replyRefs = frames.filter((f) => f[2] === 'room:wire' && f[3] === 'phx_reply').map((f) => f[1]);
		expect(replyRefs).toEqual(['1', '2']);
		// The session that sent the message gets it in its reply, never as its own broadcast.
		expect(frames.filter((f) => f[3] === 'new_message')).toEqual([]);
		expect(frames).toContainEqual(['1', '2', 'room:wire', 'phx_reply', { status: 'ok', response: { message: expect.objectContaining({ client_id: 'w1' }) } }]);
		expect(frames).toContainEqual([null, '3', 'phoenix', 'phx_reply', { status: 'ok', response: {} }]);
	});

	it('refuses a bad token (403) and a foreign origin (403); a session that is gone answers 410 without a token', async () => {
		server = await startServer();
		expect((await poll('/socket/longpoll?vsn=2.0.0', { headers: { 'x-phoenix-authtoken': 'nope' } })).body).toEqual({ status: 403 });
		expect((await poll('/socket/longpoll?vsn=2.0.0')).body).toEqual({ status: 403 });
		const ann = await server.signIn('ann');
		const foreign = await poll('/socket/longpoll?vsn=2.0.0', { headers: { 'x-phoenix-authtoken': ann.token, origin: 'http://evil.example' } });
		expect(foreign.body).toEqual({ status: 403 });
		// The connect param works too, as over WebSocket.
		expect((await poll(`/socket/longpoll?vsn=2.0.0&token=${ann.token}`)).body.status).toBe(410);
		expect((await poll('/socket/longpoll?vsn=2.0.0&token=lpNoSuchSession')).body).toEqual({ status: 410 });
		const post = await poll('/socket/longpoll?vsn=2.0.0&token=lpNoSuchSession', { method: 'POST', body: '[null,"1","phoenix","heartbeat",{}]' });
		expect(post.body).toEqual({ status: 410 });
	});

	it('a POST body over the cap (8 MiB) answers 400 and dispatches nothing; the session stays', async () => {
		server = await startServer();
		const ann = await server.signIn('ann');
		const session = (await poll('/socket/longpoll?vsn=2.0.0', { headers: { 'x-phoenix-authtoken': ann.token } })).body.token!;
		const line = '[null,"1","phoenix","heartbeat",{}]';
		const huge = Array.from({ length: Math.ceil((8 * 1024 * 1024) / line.length) + 1 }, () => line).join('\n');
		const refused = await poll(`/socket/longpoll?vsn=2.0.0&token=${session}`, { method: 'POST', body: huge });
		expect(refused.body).toEqual({ status: 400 });
		await poll(`/socket/longpoll?vsn=2.0.0&token=${session}`, { method: 'POST', body: '[null,"2","phoenix","heartbeat",{}]' });
		const got = await poll(`/socket/longpoll?vsn=2.0.0&token=${session}`);
		expect(got.body.messages).toEqual(['[null,"2","phoenix","phx_reply",{"status":"ok","response":{}}]']);
	});

	it('an abandoned session is swept like an idle socket; one with a GET held open is not', async () => {
		server = await startServer({}, { channels: { idleTimeoutMs: 200 } });
		const ann = await server.signIn('ann');
		const abandoned = (await poll('/socket/longpoll?vsn=2.0.0', { headers: { 'x-phoenix-authtoken': ann.token } })).body.token!;
		const polling = (await poll('/socket/longpoll?vsn=2.0.0', { headers: { 'x-phoenix-authtoken': ann.token } })).body.token!;
		expect(server.outbox.channels.connectionCount).toBe(2);
		const held = poll(`/socket/longpoll?vsn=2.0.0&token=${polling}`);
		await until(() => server.outbox.channels.connectionCount === 1, 3000, 'the abandoned session swept');
		expect((await poll(`/socket/longpoll?vsn=2.0.0&token=${abandoned}`)).body).toEqual({ status: 410 });
		// The held one is alive: a frame posted to it comes back on the held GET.
		await poll(`/socket/longpoll?vsn=2.0.0&token=${polling}`, { method: 'POST', body: '[null,"9","phoenix","heartbeat",{}]' });
		expect((await held).body.messages).toEqual(['[null,"9","phoenix","phx_reply",{"status":"ok","response":{}}]']);
	});
});
