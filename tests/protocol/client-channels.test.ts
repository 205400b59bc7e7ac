/**
 * Channel behaviour with the unmodified official client, 1.8.16 and 1.8.12
 * (PROTOCOL.md §7 items 4–9, 12–19, 21, 24–26, 29). Refs are compared
 * symbolically: JR and R are read off the recorded frames.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CLIENTS, joinOutcome, makeSocket, pushOutcome } from './helpers/clients.js';
import { is, startTestServer, type TestServer } from './helpers/test-server.js';
import { delay, waitFor } from './helpers/wait.js';

let srv: TestServer;
const sockets: Array<{ disconnect(): void }> = [];

beforeAll(async () => {
	srv = await startTestServer();
});
afterAll(() => srv.close());
afterEach(() => {
	for (const socket of sockets.splice(0)) socket.disconnect();
});

describe.each(CLIENTS)('official client $version', (client) => {
	let seq = 0;
	/** A topic no other test uses, so recorded frames can be filtered by it. */
	const fresh = (name: string) => `room:${name}-${client.version}-${++seq}`;
	const connect = () => {
		const socket = makeSocket(client, srv.endpoint, { authToken: `u-${client.version}` });
		sockets.push(socket);
		socket.connect();
		return socket;
	};

	it('joins: [JR,JR,T,phx_join,P] is answered [JR,JR,T,phx_reply,{status:ok,response}]', async () => {
		const topic = fresh('join');
		const channel = connect().channel(topic, { a: 1 });
		expect(await joinOutcome(channel)).toEqual({ status: 'ok', response: { hello: 'world' } });
		expect(channel.state).toBe('joined');
		const [join] = srv.textFrames('in', is(topic, 'phx_join'));
		const jr = join![0];
		expect(join).toEqual([jr, jr, topic, 'phx_join', { a: 1 }]);
		expect(srv.textFrames('out', is(topic, 'phx_reply'))).toEqual([
			[jr, jr, topic, 'phx_reply', { status: 'ok', response: { hello: 'world' } }]
		]);
	});

	it('answers a join without a reply map with an empty response', async () => {
		const channel = connect().channel('plain');
		expect(await joinOutcome(channel)).toEqual({ status: 'ok', response: {} });
	});

	it('rejects an unauthorized join; the client retries with new join_refs until it leaves', async () => {
		const channel = connect().channel('room:unauthorized');
		const before = srv.textFrames('in', is('room:unauthorized', 'phx_join')).length;
		expect(await joinOutcome(channel)).toEqual({ status: 'error', response: { reason: 'unauthorized' } });
		await waitFor(() => srv.textFrames('in', is('room:unauthorized', 'phx_join')).length >= before + 2, 'a retry');
		const [a, b] = srv.textFrames('in', is('room:unauthorized', 'phx_join')).slice(before);
		expect(b![0]).not.toBe(a![0]);
		channel.leave();
	});

	it('answers a crashing join with {reason:"join crashed"}', async () => {
		const channel = connect().channel('room:crash-join');
		expect(await joinOutcome(channel)).toEqual({ status: 'error', response: { reason: 'join crashed' } });
		channel.leave();
	});

	it('answers a join to an unrouted topic with unmatched topic and a null join_ref', async () => {
		const topic = `nope-${client.version}`;
		const channel = connect().channel(topic);
		expect(await joinOutcome(channel)).toEqual({ status: 'error', response: { reason: 'unmatched topic' } });
		const [join] = srv.textFrames('in', is(topic, 'phx_join'));
		expect(srv.textFrames('out', is(topic, 'phx_reply'))[0]).toEqual([
			null,
			join![1],
			topic,
			'phx_reply',
			{ status: 'error', response: { reason: 'unmatched topic' } }
		]);
		channel.leave();
	});

	it('routes replies by status: ok, error and custom statuses', async () => {
		const topic = fresh('reply');
		const channel = connect().channel(topic);
		await joinOutcome(channel);
		expect(await pushOutcome(channel, 'echo', { x: 1 })).toEqual({ status: 'ok', response: { pong: { x: 1 } } });
		const [echo] = srv.textFrames('in', is(topic, 'echo'));
		expect(srv.textFrames('out', (f) => f[2] === topic && f[1] === echo![1])).toEqual([
			[echo![0], echo![1], topic, 'phx_reply', { status: 'ok', response: { pong: { x: 1 } } }]
		]);
		expect(await pushOutcome(channel, 'fail', {})).toEqual({ status: 'error', response: { reason: 'nope' } });
		expect(await pushOutcome(channel, 'custom', {}, ['ok', 'error', 'teapot'])).toEqual({
			status: 'teapot',
			response: { short: 'stout' }
		});
		expect(await pushOutcome(channel, 'no_such_event', {})).toEqual({
			status: 'error',
			response: { reason: 'invalid', message: 'unknown event no_such_event' }
		});
	});

	it('sends nothing for noreply (the client times out) and a late reply has no effect', async () => {
		const topic = fresh('noreply');
		const channel = connect().channel(topic);
		await joinOutcome(channel);
		expect((await pushOutcome(channel, 'noreply', {})).status).toBe('timeout');
		const outcomes: string[] = [];
		const push = channel.push('late', { ms: 450 });
		push.receive('ok', () => outcomes.push('ok')).receive('timeout', () => outcomes.push('timeout'));
		await waitFor(() => srv.textFrames('out', (f) => f[2] === topic && f[3] === 'phx_reply' && f[1] !== f[0]).length === 1, 'late reply sent');
		await delay(20);
		expect(outcomes).toEqual(['timeout']);
	});

	it('gets pushes made before the join reply after it, with the current JR and a fresh ref', async () => {
		const topic = fresh('early');
		const channel = connect().channel(topic, { joinDelayMs: 100 });
		channel.join();
		const pushed = pushOutcome(channel, 'echo', { early: true }, ['ok', 'error', 'timeout'], 2000);
		expect((await pushed).status).toBe('ok');
		const onTopic = srv.frames.filter((r) => Array.isArray(r.frame) && r.frame[2] === topic).map((r) => r.frame as unknown[]);
		const jr = onTopic[0]![0];
		expect(onTopic.map((f) => [f[3], f[0]])).toEqual([
			['phx_join', jr],
			['phx_reply', jr],
			['echo', jr],
			['phx_reply', jr]
		]);
		expect(onTopic[2]![1]).not.toBe(jr);
	});

	it('delivers server pushes as [JR,null,T,ev,P] and pushes from afterJoin after the join reply', async () => {
		const topic = fresh('push');
		const channel = connect().channel(topic, { pushAfterJoin: { event: 'welcome', payload: { w: 1 } } });
		const got: unknown[] = [];
		channel.on('welcome', (p: unknown) => { got.push(['welcome', p]); });
		channel.on('push_evt', (p: unknown) => { got.push(['push_evt', p]); });
		await joinOutcome(channel);
		channel.push('push_me', { event: 'push_evt', payload: { n: 2 } });
		await waitFor(() => got.length === 2, 'both pushes');
		expect(got).toEqual([['welcome', { w: 1 }], ['push_evt', { n: 2 }]]);
		const jr = srv.textFrames('in', is(topic, 'phx_join'))[0]![0];
		const out = srv.textFrames('out', (f) => f[2] === topic);
		expect(out.map((f) => f[3])).toEqual(['phx_reply', 'welcome', 'push_evt']);
		expect(out[2]).toEqual([jr, null, topic, 'push_evt', { n: 2 }]);
	});

	it('broadcasts [null,null,T,ev,P] to every subscriber, from a channel and from the server API', async () => {
		const topic = fresh('bcast');
		const a = connect().channel(topic);
		const b = connect().channel(topic);
		const got: string[] = [];
		a.on('bcast_evt', (p: { n: number }) => { got.push(`a${p.n}`); });
		b.on('bcast_evt', (p: { n: number }) => { got.push(`b${p.n}`); });
		await Promise.all([joinOutcome(a), joinOutcome(b)]);
		a.push('broadcast', { event: 'bcast_evt', payload: { n: 1 } });
		await waitFor(() => got.length === 2, 'channel broadcast');
		srv.channels.broadcast(topic, 'bcast_evt', { n: 2 });
		await waitFor(() => got.length === 4, 'server broadcast');
		expect(got.sort()).toEqual(['a1', 'a2', 'b1', 'b2']);
		expect(srv.textFrames('out', is(topic, 'bcast_evt'))).toContainEqual([null, null, topic, 'bcast_evt', { n: 2 }]);
	});

	it('broadcast_from reaches the others but not the sender', async () => {
		const topic = fresh('from');
		const a = connect().channel(topic);
		const b = connect().channel(topic);
		const got: string[] = [];
		a.on('shout', () => { got.push('a'); });
		b.on('shout', (p: { hi: number }) => { got.push(`b${p.hi}`); });
		await Promise.all([joinOutcome(a), joinOutcome(b)]);
		expect((await pushOutcome(a, 'shout', { hi: 1 })).status).toBe('ok');
		await waitFor(() => got.length === 1, 'b hears');
		await delay(50);
		expect(got).toEqual(['b1']);
		expect(srv.textFrames('out', is(topic, 'shout'))).toEqual([[null, null, topic, 'shout', { hi: 1 }]]);
	});

	it('leaves: ok reply then phx_close, terminate(left), and no more broadcasts to it', async () => {
		const topic = fresh('leave');
		const socket = connect();
		const channel = socket.channel(topic);
		await joinOutcome(channel);
		let closed = false;
		channel.onClose(() => { closed = true; });
		channel.leave();
		expect(closed).toBe(true); // the client closes locally before the server answers (§4.5)
		const leave = await srv.waitFrame('in', is(topic, 'phx_leave'), 'leave');
		const jr = leave[0];
		await srv.waitFrame('out', is(topic, 'phx_close'), 'phx_close');
		expect(srv.textFrames('out', (f) => f[2] === topic).slice(1)).toEqual([
			[jr, leave[1], topic, 'phx_reply', { status: 'ok', response: {} }],
			[jr, jr, topic, 'phx_close', {}]
		]);
		expect(srv.log).toContainEqual({ type: 'terminate', topic, joinRef: jr, reason: 'left' });
		srv.channels.broadcast(topic, 'after_leave', {});
		await delay(30);
		expect(srv.textFrames('out', is(topic, 'after_leave'))).toEqual([]);
	});

	it('closes a channel from the server with phx_close; the client does not rejoin', async () => {
		const topic = fresh('close');
		const channel = connect().channel(topic);
		await joinOutcome(channel);
		let closed = false;
		channel.onClose(() => { closed = true; });
		channel.push('close_me', {});
		await waitFor(() => closed, 'onClose');
		const jr = srv.textFrames('in', is(topic, 'phx_join'))[0]![0];
		expect(srv.textFrames('out', is(topic, 'phx_close'))).toEqual([[jr, jr, topic, 'phx_close', {}]]);
		expect(srv.log).toContainEqual({ type: 'terminate', topic, joinRef: jr, reason: 'stopped' });
		await delay(200); // 4× rejoinAfterMs
		expect(srv.textFrames('in', is(topic, 'phx_join'))).toHaveLength(1);
	});

	it.each(['throw', 'throw_async', 'bad_reply'])(
		'crashes only the channel whose handler fails (%s): phx_error, rejoin, other topics unaffected',
		async (event) => {
			const topic = fresh(`crash-${event}`);
			const other = fresh('bystander');
			const socket = connect();
			const channel = socket.channel(topic);
			const bystander = socket.channel(other);
			await Promise.all([joinOutcome(channel), joinOutcome(bystander)]);
			const opens = srv.opens.length;
			const errors: unknown[] = [];
			channel.onError((reason: unknown) => { errors.push(reason); });
			channel.push(event, {});
			await waitFor(() => errors.length === 1, 'onError');
			const jr = srv.textFrames('in', is(topic, 'phx_join'))[0]![0];
			expect(srv.textFrames('out', is(topic, 'phx_error'))).toEqual([[jr, jr, topic, 'phx_error', { reason: 'channel_crash' }]]);
			const rejoin = await srv.waitFrame('in', (f) => is(topic, 'phx_join')(f) && f[0] !== jr, 'rejoin');
			expect(rejoin[0]).toBe(rejoin[1]);
			expect((await pushOutcome(bystander, 'echo', { still: 'here' })).status).toBe('ok');
			expect(srv.opens.length).toBe(opens);
			expect(srv.log).not.toContainEqual(expect.objectContaining({ type: 'terminate', joinRef: jr }));
		}
	);

	it('handles a second client instance of a topic (leave old, join new) and drops the old channel\'s late push', async () => {
		const topic = fresh('dup');
		const socket = connect();
		const first = socket.channel(topic);
		await joinOutcome(first);
		let firstClosed = false;
		first.onClose(() => { firstClosed = true; });
		const latePushes: string[] = [];
		first.push('push_later', { ms: 80 });
		const second = socket.channel(topic);
		second.on('later_evt', () => { latePushes.push('second'); });
		expect((await joinOutcome(second)).status).toBe('ok');
		expect(firstClosed).toBe(true);
		const [join1, join2] = srv.textFrames('in', is(topic, 'phx_join'));
		const inbound = srv.textFrames('in', (f) => f[2] === topic && f[3] !== 'push_later').map((f) => [f[0], f[3]]);
		expect(inbound).toEqual([
			[join1![0], 'phx_join'],
			[join1![0], 'phx_leave'],
			[join2![0], 'phx_join']
		]);
		await delay(150);
		expect(srv.textFrames('out', is(topic, 'later_evt'))).toEqual([]);
		expect(latePushes).toEqual([]);
		expect(srv.log).toContainEqual({ type: 'terminate', topic, joinRef: join1![0], reason: 'left' });
	});

	it('survives a join that outlives the client timeout: leave JR1, join JR2, joined once', async () => {
		const topic = fresh('slowjoin');
		let attempt = 0;
		const channel = connect().channel(topic, () => (attempt++ === 0 ? { joinDelayMs: 450 } : {}));
		channel.join();
		await waitFor(() => channel.state === 'joined', 'joined', 4000);
		const joins = srv.textFrames('in', is(topic, 'phx_join'));
		const jr1 = joins[0]![0];
		const jr2 = joins.at(-1)![0];
		expect(jr2).not.toBe(jr1);
		expect(srv.textFrames('in', is(topic, 'phx_leave'))[0]![0]).toBe(jr1);
		// JR1's join finished after its leave: its terminate still runs, and only JR2 is subscribed.
		const terminated = await waitFor(
			() => srv.log.find((e) => e.type === 'terminate' && e.topic === topic && e.joinRef === jr1),
			'terminate of JR1'
		);
		expect(terminated).toEqual({ type: 'terminate', topic, joinRef: jr1, reason: 'left' });
		srv.channels.broadcast(topic, 'once', {});
		await srv.waitFrame('out', is(topic, 'once'), 'broadcast');
		await delay(30);
		expect(srv.textFrames('out', is(topic, 'once'))).toHaveLength(1);
	});

	it('takes a binary push (kind 0) and answers with a binary reply (kind 1)', async () => {
		const topic = fresh('bin');
		const channel = connect().channel(topic);
		await joinOutcome(channel);
		const outcome = await pushOutcome(channel, 'bin', new TextEncoder().encode('BIN').buffer);
		expect(outcome.status).toBe('ok');
		expect(outcome.response).toBeInstanceOf(ArrayBuffer);
		expect(new TextDecoder().decode(outcome.response as ArrayBuffer)).toBe('PONG');
		expect(srv.log).toContainEqual({ type: 'binary', event: 'bin', bytes: 'BIN' });
		const inbound = srv.frames.find((r) => r.dir === 'in' && r.frame instanceof Uint8Array)!.frame as Uint8Array;
		expect(inbound[0]).toBe(0);
	});

	it('delivers a binary server push (kind 0) as an ArrayBuffer', async () => {
		const topic = fresh('binpush');
		const channel = connect().channel(topic);
		await joinOutcome(channel);
		let got: unknown;
		channel.on('bin_evt', (payload: unknown) => { got = payload; });
		channel.push('push_bin', {});
		await waitFor(() => got, 'bin_evt');
		expect(got).toBeInstanceOf(ArrayBuffer);
		expect(new TextDecoder().decode(got as ArrayBuffer)).toBe('SRVBIN');
	});

	it('supports Presence: presence_state after the join reply, then presence_diff broadcasts', async () => {
		const channel = connect().channel('presence:lobby');
		const presence = new client.Presence(channel);
		const joined: string[] = [];
		presence.onJoin((key: string | undefined) => joined.push(String(key)));
		await joinOutcome(channel);
		await waitFor(() => presence.list().length === 1, 'presence_state');
		srv.channels.broadcast('presence:lobby', 'presence_diff', {
			joins: { [`u2-${client.version}`]: { metas: [{ phx_ref: `B-${client.version}` }] } },
			leaves: {}
		});
		await waitFor(() => joined.includes(`u2-${client.version}`), 'diff applied');
		expect(presence.list((key: string) => key)).toContain('u1');
	});

	it('refuses the 101st channel on one socket with {reason:"too many channels joined"}', async () => {
		const socket = connect();
		const topics = Array.from({ length: 100 }, (_, i) => `room:limit-${client.version}-${i}`);
		const outcomes = await Promise.all(topics.map((t) => joinOutcome(socket.channel(t))));
		expect(outcomes.every((o) => o.status === 'ok')).toBe(true);
		const extra = socket.channel(`room:limit-${client.version}-extra`);
		expect(await joinOutcome(extra)).toEqual({ status: 'error', response: { reason: 'too many channels joined' } });
		extra.leave();
	});
});
