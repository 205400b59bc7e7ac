/**
 * Frame-level traps (PROTOCOL.md §3.2, §8) driven by a bare `ws` client:
 * traffic the official client rarely or never produces, answered exactly as
 * Phoenix does, and never at the cost of the socket.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeBinaryClientPush, encodeBinaryReply } from '../../src/lib/protocol/frames.js';
import { openRaw, type RawClient } from './helpers/raw-client.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';
import { delay } from './helpers/wait.js';

let srv: TestServer;
let limited: TestServer;
let n = 0;

beforeAll(async () => {
	[srv, limited] = await Promise.all([startTestServer(), startTestServer({ rateLimit: { perSecond: 1, burst: 3 } })]);
});
afterAll(() => Promise.all([srv.close(), limited.close()]));

const raw = (server = srv) => openRaw(`${server.wsUrl}&token=raw${++n}`);
const replyTo = (ref: string) => (f: unknown[]) => f[1] === ref && f[3] === 'phx_reply';
const ok = (response: unknown = {}) => ({ status: 'ok', response });
const error = (response: unknown) => ({ status: 'error', response });

/** Heartbeat round trip: proof the socket is still up and answering. */
async function expectAlive(client: RawClient, ref = `hb${++n}`): Promise<void> {
	client.send([null, ref, 'phoenix', 'heartbeat', {}]);
	expect(await client.next(replyTo(ref), 'heartbeat reply')).toEqual([null, ref, 'phoenix', 'phx_reply', ok()]);
}

describe('raw frames', () => {
	it('answers unmatched-topic joins and events on unjoined topics with a null join_ref', async () => {
		const c = await raw();
		c.send(['1', '1', 'nowhere', 'phx_join', {}]);
		expect(await c.next(replyTo('1'), 'join reply')).toEqual([null, '1', 'nowhere', 'phx_reply', error({ reason: 'unmatched topic' })]);
		c.send(['7', '2', 'room:never-joined', 'echo', {}]);
		expect(await c.next(replyTo('2'), 'event reply')).toEqual([
			null,
			'2',
			'room:never-joined',
			'phx_reply',
			error({ reason: 'unmatched topic' })
		]);
		c.close();
	});

	it('drops frames with a stale join_ref silently and accepts a null join_ref', async () => {
		const c = await raw();
		const t = 'room:stale';
		expect(await c.join(t, '1')).toEqual(['1', '1', t, 'phx_reply', ok({ hello: 'world' })]);
		c.send(['999', '2', t, 'echo', {}]);
		c.send(['999', '3', t, 'phx_leave', {}]);
		c.send([null, '4', t, 'echo', { x: 1 }]);
		expect(await c.next(replyTo('4'), 'null join_ref reply')).toEqual(['1', '4', t, 'phx_reply', ok({ pong: { x: 1 } })]);
		expect(c.received.filter((f) => Array.isArray(f) && (f[1] === '2' || f[1] === '3'))).toEqual([]);
		c.send(['1', '5', t, 'echo', {}]);
		await c.next(replyTo('5'), 'still joined');
		c.close();
	});

	it('answers a duplicate join with phx_close for the old join_ref, then the new join', async () => {
		const c = await raw();
		const t = 'room:dup-raw';
		await c.join(t, '1');
		const from = c.received.length;
		c.send(['5', '5', t, 'phx_join', {}]);
		await c.next(replyTo('5'), 'second join reply', from);
		expect(c.received.slice(from)).toEqual([
			['1', '1', t, 'phx_close', {}],
			['5', '5', t, 'phx_reply', ok({ hello: 'world' })]
		]);
		expect(srv.log).toContainEqual({ type: 'terminate', topic: t, joinRef: '1', reason: 'duplicate_join' });
		srv.channels.broadcast(t, 'once', { k: 1 });
		const got = await c.collectFor(50, (f) => f[3] === 'once');
		expect(got).toEqual([[null, null, t, 'once', { k: 1 }]]);
		c.close();
	});

	it('leaves: ok reply then phx_close; a leave for an unjoined topic is ok too', async () => {
		const c = await raw();
		const t = 'room:leave-raw';
		await c.join(t, '1');
		const from = c.received.length;
		c.send(['1', '2', t, 'phx_leave', {}]);
		await c.next((f) => f[3] === 'phx_close', 'phx_close', from);
		expect(c.received.slice(from)).toEqual([
			['1', '2', t, 'phx_reply', ok()],
			['1', '1', t, 'phx_close', {}]
		]);
		c.send(['8', '9', 'room:not-joined', 'phx_leave', {}]);
		expect(await c.next(replyTo('9'), 'leave reply')).toEqual(['8', '9', 'room:not-joined', 'phx_reply', ok()]);
		c.send(['1', '3', t, 'echo', {}]);
		expect((await c.next(replyTo('3'), 'after leave'))[4]).toEqual(error({ reason: 'unmatched topic' }));
		c.close();
	});

	it('ignores malformed frames and keeps the socket up', async () => {
		const c = await raw();
		await c.join('room:malformed', '1');
		const from = c.received.length;
		for (const junk of [
			'not json',
			'{}',
			'[]',
			'["1","2","room:malformed","echo"]',
			'["1","2","room:malformed","echo",[]]',
			'["1","2","room:malformed","echo",null]',
			'[1,"2","room:malformed","echo",{}]',
			'["1","2",3,"echo",{}]',
			'["1","2","room:malformed",null,{}]'
		]) {
			c.sendRaw(junk);
		}
		c.sendRaw(new Uint8Array([9, 9, 9]));
		c.sendRaw(new Uint8Array([0, 5, 5, 5, 5, 65]));
		c.sendRaw(new Uint8Array([]), true);
		await expectAlive(c);
		expect(c.received.slice(from).filter((f) => Array.isArray(f) && f[2] !== 'phoenix')).toEqual([]);
		// Extra trailing elements are fine, as in Phoenix.
		c.send(['1', '3', 'room:malformed', 'echo', { y: 2 }, 'extra']);
		expect((await c.next(replyTo('3'), 'reply'))[4]).toEqual(ok({ pong: { y: 2 } }));
		c.close();
	});

	it('answers an unknown event with invalid and keeps the channel', async () => {
		const c = await raw();
		await c.join('room:unknown-ev', '1');
		c.send(['1', '2', 'room:unknown-ev', 'nope', {}]);
		expect(await c.next(replyTo('2'), 'reply')).toEqual([
			'1',
			'2',
			'room:unknown-ev',
			'phx_reply',
			error({ reason: 'invalid', message: 'unknown event nope' })
		]);
		c.send(['1', '3', 'room:unknown-ev', 'constructor', {}]);
		expect((await c.next(replyTo('3'), 'prototype key'))[4]).toEqual(
			error({ reason: 'invalid', message: 'unknown event constructor' })
		);
		c.close();
	});

	it('decodes a kind-0 binary push and answers with a kind-1 binary reply', async () => {
		const c = await raw();
		await c.join('room:bin-raw', '1');
		c.sendRaw(encodeBinaryClientPush('1', '2', 'room:bin-raw', 'bin', new TextEncoder().encode('BIN')));
		const reply = await c.nextBinary('binary reply');
		expect(Buffer.from(reply)).toEqual(Buffer.from(encodeBinaryReply('1', '2', 'room:bin-raw', 'ok', new TextEncoder().encode('PONG'))));
		expect([...reply.subarray(0, 5)]).toEqual([1, 1, 1, 12, 2]);
		expect(srv.log).toContainEqual({ type: 'binary', event: 'bin', bytes: 'BIN' });
		c.close();
	});

	it('answers a binary payload for an event not declared binary with invalid', async () => {
		const c = await raw();
		await c.join('room:bin-refused', '1');
		c.sendRaw(encodeBinaryClientPush('1', '2', 'room:bin-refused', 'echo', new Uint8Array([1, 2])));
		const reply = await c.next(replyTo('2'), 'reply');
		expect(reply.slice(0, 4)).toEqual(['1', '2', 'room:bin-refused', 'phx_reply']);
		expect(reply[4]).toMatchObject(error({ reason: 'invalid' }));
		await expectAlive(c);
		c.close();
	});

	it('crashes one channel on a handler throw; other topics and the socket stay up', async () => {
		const c = await raw();
		await c.join('room:crash-a', '1');
		await c.join('room:crash-b', '2');
		c.send(['1', '3', 'room:crash-a', 'throw', {}]);
		expect(await c.next((f) => f[3] === 'phx_error', 'phx_error')).toEqual(['1', '1', 'room:crash-a', 'phx_error', { reason: 'channel_crash' }]);
		expect(c.received.filter((f) => Array.isArray(f) && f[1] === '3')).toEqual([]);
		c.send(['2', '4', 'room:crash-b', 'echo', {}]);
		expect((await c.next(replyTo('4'), 'other topic'))[4]).toEqual(ok({ pong: {} }));
		c.send(['1', '5', 'room:crash-a', 'echo', {}]);
		expect((await c.next(replyTo('5'), 'crashed topic'))[4]).toEqual(error({ reason: 'unmatched topic' }));
		expect(await c.join('room:crash-a', '6')).toEqual(['6', '6', 'room:crash-a', 'phx_reply', ok({ hello: 'world' })]);
		c.close();
	});

	it('drops an async reply whose channel was left and rejoined meanwhile', async () => {
		const c = await raw();
		const t = 'room:late-raw';
		await c.join(t, '1');
		c.send(['1', '2', t, 'late', { ms: 60 }]);
		c.send(['1', '3', t, 'phx_leave', {}]);
		await c.join(t, '4');
		const got = await c.collectFor(150, (f) => f[1] === '2');
		expect(got).toEqual([]);
		c.close();
	});

	it('queues events sent before the join reply and answers them after it', async () => {
		const c = await raw();
		const t = 'room:eager';
		c.send(['1', '1', t, 'phx_join', { joinDelayMs: 40 }]);
		c.send(['1', '2', t, 'echo', { n: 1 }]);
		await c.next(replyTo('2'), 'echo reply');
		const onTopic = c.received.filter((f): f is unknown[] => Array.isArray(f) && f[2] === t);
		expect(onTopic).toEqual([
			['1', '1', t, 'phx_reply', ok({ hello: 'world' })],
			['1', '2', t, 'phx_reply', ok({ pong: { n: 1 } })]
		]);
		c.close();
	});

	it('refuses the 101st channel but still accepts a rejoin of a joined topic at the limit', async () => {
		const c = await raw();
		for (let i = 0; i < 100; i++) c.send([`j${i}`, `j${i}`, `room:cap-${i}`, 'phx_join', {}]);
		await c.next(replyTo('j99'), 'the 100th join');
		expect(c.received.filter((f) => Array.isArray(f) && f[3] === 'phx_reply' && (f[4] as { status: string }).status === 'ok')).toHaveLength(100);
		expect(await c.join('room:cap-extra', 'x')).toEqual(['x', 'x', 'room:cap-extra', 'phx_reply', error({ reason: 'too many channels joined' })]);
		expect((await c.join('room:cap-0', 'again'))[4]).toEqual(ok({ hello: 'world' }));
		c.close();
	});

	it('rate-limits channel events per socket with rate_limited and keeps the socket up', async () => {
		const c = await raw(limited);
		await c.join('room:rl', '1');
		for (let i = 0; i < 5; i++) c.send(['1', `e${i}`, 'room:rl', 'echo', {}]);
		await c.next(replyTo('e4'), 'last reply');
		const statuses = [0, 1, 2, 3, 4].map((i) => {
			const reply = c.received.find((f) => Array.isArray(f) && f[1] === `e${i}`) as unknown[];
			return reply[4];
		});
		expect(statuses.slice(0, 3)).toEqual([ok({ pong: {} }), ok({ pong: {} }), ok({ pong: {} })]);
		expect(statuses.slice(3)).toEqual([error({ reason: 'rate_limited' }), error({ reason: 'rate_limited' })]);
		await expectAlive(c); // heartbeats are not limited
		await delay(1050); // one token back
		c.send(['1', 'later', 'room:rl', 'echo', {}]);
		expect((await c.next(replyTo('later'), 'after refill'))[4]).toEqual(ok({ pong: {} }));
		c.close();
	});
});
