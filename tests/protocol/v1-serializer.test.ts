/**
 * Phoenix's V1 JSON serializer beside V2 (PROTOCOL.md §1): `vsn=1.0.0`, and a
 * connect with no `vsn` at all, get object frames `{topic, event, payload,
 * ref, join_ref}`; `2.0.x` gets arrays; any other version is refused. Checked
 * with raw frames against the channel server's test routes, so every field
 * of every frame is seen; binary frames stay V2-only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { openRaw } from './helpers/raw-client.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';
import { delay, waitFor } from './helpers/wait.js';

let srv: TestServer;
beforeAll(async () => {
	srv = await startTestServer();
});
afterAll(() => srv.close());

type V1 = { topic: string; event: string; payload: any; ref: string | null; join_ref?: string | null };

/** A raw client that speaks V1 objects; `query` is the whole query string (with or without `vsn`). */
async function openV1(query: string) {
	const ws = new WebSocket(`ws://127.0.0.1:${srv.port}/socket/websocket?${query}`);
	const received: Array<V1 | Uint8Array> = [];
	ws.on('message', (data: Buffer, isBinary: boolean) => void received.push(isBinary ? new Uint8Array(data) : (JSON.parse(data.toString('utf8')) as V1)));
	ws.on('error', () => {});
	await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
	const objects = () => received.filter((f): f is V1 => !(f instanceof Uint8Array));
	return {
		ws,
		received,
		send: (frame: object) => ws.send(JSON.stringify(frame)),
		next: (match: (f: V1) => boolean, what: string) => waitFor(() => objects().find(match), what),
		objects
	};
}

const reply = (ref: string) => (f: V1) => f.event === 'phx_reply' && f.ref === ref;

describe('V1 over WebSocket', () => {
	it.each([
		['vsn=1.0.0', 'vsn=1.0.0&token=v1a'],
		['vsn=1.0.7 (any 1.0.x)', 'vsn=1.0.7&token=v1b'],
		['no vsn at all', 'token=v1c']
	])('%s: joins, replies and answers heartbeats with object frames', async (_what, query) => {
		const c = await openV1(query);
		c.send({ topic: 'room:v1', event: 'phx_join', payload: { a: 1 }, ref: '1', join_ref: '1' });
		expect(await c.next(reply('1'), 'join reply')).toEqual({
			topic: 'room:v1',
			event: 'phx_reply',
			payload: { status: 'ok', response: { hello: 'world' } },
			ref: '1',
			join_ref: '1'
		});
		c.send({ topic: 'phoenix', event: 'heartbeat', payload: {}, ref: '2' });
		expect(await c.next(reply('2'), 'heartbeat reply')).toEqual({
			topic: 'phoenix',
			event: 'phx_reply',
			payload: { status: 'ok', response: {} },
			ref: '2',
			join_ref: null
		});
		c.send({ topic: 'room:v1', event: 'echo', payload: { x: 1 }, ref: '3', join_ref: '1' });
		expect(await c.next(reply('3'), 'echo reply')).toEqual({
			topic: 'room:v1',
			event: 'phx_reply',
			payload: { status: 'ok', response: { pong: { x: 1 } } },
			ref: '3',
			join_ref: '1'
		});
		c.ws.close();
	});

	it('takes frames without join_ref (clients before Phoenix 1.3): the join ref is the join push ref', async () => {
		const c = await openV1('vsn=1.0.0&token=old');
		c.send({ topic: 'room:old', event: 'phx_join', payload: {}, ref: '5' });
		expect(await c.next(reply('5'), 'join reply')).toMatchObject({ ref: '5', join_ref: '5', payload: { status: 'ok' } });
		c.send({ topic: 'room:old', event: 'push_me', payload: { event: 'ping', payload: { n: 1 } }, ref: '6' });
		expect(await c.next((f) => f.event === 'ping', 'push')).toEqual({ topic: 'room:old', event: 'ping', payload: { n: 1 }, ref: null, join_ref: '5' });
		c.send({ topic: 'room:old', event: 'phx_leave', payload: {}, ref: '7' });
		expect(await c.next(reply('7'), 'leave reply')).toMatchObject({ join_ref: '5', payload: { status: 'ok', response: {} } });
		expect(await c.next((f) => f.event === 'phx_close', 'phx_close')).toEqual({ topic: 'room:old', event: 'phx_close', payload: {}, ref: '5', join_ref: '5' });
		c.ws.close();
	});

	it('answers an unmatched topic with a null join_ref, and a push to a topic not joined too', async () => {
		const c = await openV1('vsn=1.0.0&token=unmatched');
		c.send({ topic: 'nope', event: 'phx_join', payload: {}, ref: '1', join_ref: '1' });
		expect(await c.next(reply('1'), 'unmatched')).toEqual({
			topic: 'nope',
			event: 'phx_reply',
			payload: { status: 'error', response: { reason: 'unmatched topic' } },
			ref: '1',
			join_ref: null
		});
		c.send({ topic: 'room:never', event: 'echo', payload: {}, ref: '2', join_ref: '9' });
		expect(await c.next(reply('2'), 'not joined')).toMatchObject({ join_ref: null, payload: { status: 'error', response: { reason: 'unmatched topic' } } });
		c.ws.close();
	});

	it('a broadcast reaches V1 and V2 subscribers each in its own format; broadcast_from skips the V1 sender', async () => {
		const v1 = await openV1('vsn=1.0.0&token=mixed1');
		const v2 = await openRaw(`${srv.wsUrl}&token=mixed2`);
		v1.send({ topic: 'room:mixed', event: 'phx_join', payload: {}, ref: '1', join_ref: '1' });
		await v1.next(reply('1'), 'v1 join');
		await v2.join('room:mixed', '1');
		v1.send({ topic: 'room:mixed', event: 'broadcast', payload: { event: 'news', payload: { n: 1 } }, ref: '2', join_ref: '1' });
		expect(await v1.next((f) => f.event === 'news', 'v1 broadcast')).toEqual({ topic: 'room:mixed', event: 'news', payload: { n: 1 }, ref: null, join_ref: null });
		expect(await v2.next((f) => f[3] === 'news', 'v2 broadcast')).toEqual([null, null, 'room:mixed', 'news', { n: 1 }]);

		v1.send({ topic: 'room:mixed', event: 'shout', payload: { loud: true }, ref: '3', join_ref: '1' });
		expect(await v2.next((f) => f[3] === 'shout', 'shout on v2')).toEqual([null, null, 'room:mixed', 'shout', { loud: true }]);
		// The reply to the shout comes after the broadcast went out: no shout may be on v1 by then.
		await v1.next(reply('3'), 'shout reply');
		expect(v1.objects().filter((f) => f.event === 'shout')).toEqual([]);
		v1.ws.close();
		v2.close();
	});

	it('drops what V1 cannot carry: a V2 array frame, a binary frame, a binary push; the socket stays up', async () => {
		const c = await openV1('vsn=1.0.0&token=strict');
		c.send({ topic: 'room:strict', event: 'phx_join', payload: {}, ref: '1', join_ref: '1' });
		await c.next(reply('1'), 'join');
		c.ws.send(JSON.stringify(['1', '2', 'room:strict', 'echo', {}]));
		c.ws.send(Buffer.from([0, 1, 1, 11, 3, 0x31, 0x33, ...Buffer.from('room:strict'), ...Buffer.from('bin'), 1, 2]), { binary: true });
		c.send({ topic: 'room:strict', event: 'push_bin', payload: {}, ref: '4', join_ref: '1' });
		expect(await c.next(reply('4'), 'push_bin reply')).toMatchObject({ payload: { status: 'ok' } });
		c.send({ topic: 'phoenix', event: 'heartbeat', payload: {}, ref: '5' });
		await c.next(reply('5'), 'heartbeat after the drops');
		expect(c.received.filter((f) => f instanceof Uint8Array)).toEqual([]);
		expect(c.objects().map((f) => f.ref)).toEqual(['1', '4', '5']);
		expect(srv.log.filter((e) => e.type === 'binary')).toEqual([]);
		c.ws.close();
	});
});

describe('serializer negotiation', () => {
	it.each(['2.1.0', '1.1.0', '3.0.0', '2.0', 'latest', ''])('refuses vsn=%s with 400', async (vsn) => {
		const refused = openRaw(`ws://127.0.0.1:${srv.port}/socket/websocket?vsn=${vsn}&token=refused`);
		await expect(refused).rejects.toMatchObject({ status: 400 });
	});

	it('a V2 client still gets arrays, and a V1 object frame on a V2 socket is ignored', async () => {
		const v2 = await openRaw(`${srv.wsUrl}&token=v2only`);
		v2.ws.send(JSON.stringify({ topic: 'phoenix', event: 'heartbeat', payload: {}, ref: 'obj' }));
		v2.send([null, 'arr', 'phoenix', 'heartbeat', {}]);
		expect(await v2.next((f) => f[1] === 'arr', 'array heartbeat reply')).toEqual([null, 'arr', 'phoenix', 'phx_reply', { status: 'ok', response: {} }]);
		await delay(50);
		expect(v2.received.filter((f) => Array.isArray(f) && f[1] === 'obj')).toEqual([]);
		v2.close();
	});
});

describe('V1 over LongPoll', () => {
	async function poll(path: string, init: RequestInit = {}) {
		const res = await fetch(`http://127.0.0.1:${srv.port}${path}`, init);
		return (await res.json()) as { status: number; token?: string; messages?: string[] };
	}

	it('opens without vsn as V1, takes ndjson object lines and a plain JSON body, answers object frames', async () => {
		const open = await poll('/socket/longpoll?token=v1poll');
		expect(open).toMatchObject({ status: 410, token: expect.any(String) });
		const session = open.token!;
		const lines = [
			JSON.stringify({ topic: 'room:lp1', event: 'phx_join', payload: {}, ref: '1', join_ref: '1' }),
			JSON.stringify({ topic: 'room:lp1', event: 'echo', payload: { via: 'ndjson' }, ref: '2', join_ref: '1' })
		];
		expect(await poll(`/socket/longpoll?token=${session}`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: lines.join('\n') })).toEqual({ status: 200 });
		// An older client posts one JSON frame per request.
		const single = JSON.stringify({ topic: 'room:lp1', event: 'echo', payload: { via: 'json' }, ref: '3', join_ref: '1' });
		expect(await poll(`/socket/longpoll?token=${session}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: single })).toEqual({ status: 200 });
		const frames: V1[] = [];
		for (let polls = 0; frames.length < 3 && polls < 5; polls++) {
			const got = await poll(`/socket/longpoll?token=${session}`);
			frames.push(...(got.messages ?? []).map((m) => JSON.parse(m) as V1));
		}
		expect(frames).toEqual([
			{ topic: 'room:lp1', event: 'phx_reply', payload: { status: 'ok', response: { hello: 'world' } }, ref: '1', join_ref: '1' },
			{ topic: 'room:lp1', event: 'phx_reply', payload: { status: 'ok', response: { pong: { via: 'ndjson' } } }, ref: '2', join_ref: '1' },
			{ topic: 'room:lp1', event: 'phx_reply', payload: { status: 'ok', response: { pong: { via: 'json' } } }, ref: '3', join_ref: '1' }
		]);
	});
});
