/**
 * Delivery guarantees at the server: gap-free seq under concurrent clients,
 * exactly-once across a lost reply, the HTTP path sharing the socket path's
 * idempotency and broadcasts, and the per-socket rate limit.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { createSqliteStore } from '../../../src/lib/server/store/sqlite-store.js';
import { cid, collect, joinRoom, push, startServer, syncAll, until, type TestServer } from './harness.js';

let server: TestServer | undefined;
const cleanups: (() => void)[] = [];
afterEach(async () => {
	await server?.close();
	server = undefined;
	for (const fn of cleanups.splice(0)) fn();
});

describe('seq', () => {
	test('stays gap-free and per-sender ordered with 5 clients sending at once, broadcast in seq order', async () => {
		server = await startServer();
		const users = await Promise.all(['s1', 's2', 's3', 's4', 's5'].map((n) => server!.signIn(n)));
		const channels = await Promise.all(users.map((u) => joinRoom(server!.connect(u.token), 'race')));
		// A watcher: broadcasts of writes committed together (group commit) still come in seq order.
		const watcher = await joinRoom(server.connect((await server.signIn('watcher')).token), 'race');
		const heard = collect(watcher, 'new_message');
		const replies = await Promise.all(
			channels.map((channel, c) =>
				Promise.all(Array.from({ length: 40 }, (_, i) => push(channel, 'send_message', { client_id: cid(`u${c}m${i}-`), body: `${c}:${i}` })))
			)
		);
		const seqs = replies.flat().map((r) => {
			expect(r.status).toBe('ok');
			return r.response.message.seq as number;
		});
		expect([...seqs].sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
		for (const perClient of replies) {
			const mine = perClient.map((r) => r.response.message.seq);
			expect(mine).toEqual([...mine].sort((a, b) => a - b));
		}
		const { messages } = await syncAll(channels[0]!);
		expect(messages.map((m: any) => m.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
		await until(() => heard.length === 200, 5000, 'every broadcast');
		expect(heard.map((p) => p.message.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
	});
});

describe('exactly once', () => {
	test('a reply lost when the socket dies after the commit is recovered by sending again', async () => {
		const dir = mkdtempSync(joinPath(tmpdir(), 'outbox-lost-ack-'));
		cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
		const store = createSqliteStore({ file: joinPath(dir, 'db.sqlite') });
		const apply = store.applyActions.bind(store);
		let killAfterCommit: string | null = null;
		store.applyActions = async (author, room, actions) => {
			const outcome = await apply(author, room, actions);
			if (killAfterCommit === author.id) {
				killAfterCommit = null;
				server!.outbox.channels.disconnect(`user:${author.id}`);
				// Let the close frame leave before the reply would.
				await new Promise((r) => setTimeout(r, 50));
			}
			return outcome;
		};
		server = await startServer({}, { store });
		const { token, user } = await server.signIn('Lost');
		const socket = server.connect(token);
		const closes: number[] = [];
		socket.onClose((e: any) => void closes.push(e.code));
		const channel = await joinRoom(socket, 'lost-ack');
		const watcher = await joinRoom(server.connect((await server.signIn('Watcher')).token), 'lost-ack');
		const seen = collect(watcher, 'new_message');

		const client_id = cid();
		killAfterCommit = user.id;
		const lost = await push(channel, 'send_message', { client_id, body: 'only once' }, 1000);
		expect(lost.status).toBe('timeout');
		expect(closes).toContain(1001);

		await until(() => channel.state === 'joined', 5000, 'rejoin');
		const retried = await push(channel, 'send_message', { client_id, body: 'only once' });
		expect(retried.status).toBe('ok');
		expect(retried.response.message.seq).toBe(1);

		const { messages } = await syncAll(channel);
		expect(messages).toHaveLength(1);
		expect(messages[0]).toEqual(retried.response.message);
		await new Promise((r) => setTimeout(r, 100));
		expect(seen).toHaveLength(1);
	});

	test('a lost reply inside a batch: the retried batch returns the same results, nothing twice', async () => {
		server = await startServer();
		const { token } = await server.signIn('Batchy');
		const channel = await joinRoom(server.connect(token), 'lost-batch');
		const actions = Array.from({ length: 5 }, (_, i) => ({ client_id: cid(), type: 'send_message', payload: { body: `b${i}` } }));
		const first = await push(channel, 'send_batch', { actions: actions.slice(0, 3) });
		// The retry resends the three (reply "lost") plus two new ones.
		const retried = await push(channel, 'send_batch', { actions });
		expect(retried.response.results.slice(0, 3)).toEqual(first.response.results);
		expect(retried.response.results.slice(3).map((r: any) => r.message.seq)).toEqual([4, 5]);
		const { messages } = await syncAll(channel);
		expect(messages.map((m: any) => m.body)).toEqual(['b0', 'b1', 'b2', 'b3', 'b4']);
	});
});

describe('POST /api/sync/events', () => {
	test('gives send_batch results, shares its idempotency, and broadcasts to the room', async () => {
		server = await startServer();
		const { token } = await server.signIn('Worker');
		const socket = server.connect(token);
		const channel = await joinRoom(socket, 'http-1');
		const watcher = await joinRoom(server.connect((await server.signIn('Eve')).token), 'http-1');
		const seen = collect(watcher, 'new_message');

		const actions = [
			{ client_id: cid(), type: 'send_message', payload: { body: 'from the service worker' } },
			{ client_id: cid(), type: 'send_message', payload: { body: '' } }
		];
		const res = await server.api('POST', '/api/sync/events', { room: 'http-1', actions }, token);
		expect(res.status).toBe(200);
		expect(res.body.results[0]).toMatchObject({ client_id: actions[0]!.client_id, status: 'ok', message: { body: 'from the service worker', seq: 1 } });
		expect(res.body.results[1]).toMatchObject({ client_id: actions[1]!.client_id, status: 'error', reason: 'invalid' });
		await until(() => seen.length === 1, 3000, 'broadcast');
		expect(seen[0].message).toEqual(res.body.results[0].message);

		const again = await server.api('POST', '/api/sync/events', { room: 'http-1', actions }, token);
		expect(again.body.results[0]).toEqual(res.body.results[0]);
		const viaSocket = await push(channel, 'send_batch', { actions: actions.slice(0, 1) });
		expect(viaSocket.response.results[0]).toEqual(res.body.results[0]);
		const { messages } = await syncAll(channel);
		expect(messages).toHaveLength(1);
	});

	test('refuses a missing token (401), a foreign dm (403), a bad body or 101 actions (400)', async () => {
		server = await startServer();
		const { token, user } = await server.signIn('Zed');
		const action = { client_id: cid(), type: 'send_message', payload: { body: 'x' } };
		expect((await server.api('POST', '/api/sync/events', { room: 'x', actions: [action] })).status).toBe(401);
		const dm = await server.api('POST', '/api/sync/events', { room: `dm-0000-${user.id === 'zzzz' ? 'zzzy' : 'zzzz'}`, actions: [action] }, token);
		expect(dm).toEqual({ status: 403, body: { reason: 'forbidden' } });
		const bad = await server.api('POST', '/api/sync/events', { room: 'Bad Room', actions: [action] }, token);
		expect(bad.status).toBe(400);
		expect(bad.body.reason).toBe('invalid');
		const many = Array.from({ length: 101 }, () => ({ ...action, client_id: cid() }));
		expect((await server.api('POST', '/api/sync/events', { room: 'x', actions: many }, token)).status).toBe(400);
		const wrongMethod = await server.api('GET', '/api/sync/events', undefined, token);
		expect(wrongMethod.status).toBe(405);
	});
});

describe('limits', () => {
	test('POST /api/sync/events over the per-user limit answers 429 rate_limited with Retry-After; other users and later calls go through', async () => {
		const started = await startServer({}, { syncEventsRateLimit: { perSecond: 2, burst: 3 } });
		server = started;
		const ann = await started.signIn('Ann');
		const bob = await started.signIn('Bob');
		const call = async (token: string, body: string) => {
			const res = await fetch(started.url + '/api/sync/events', {
				method: 'POST',
				headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
				body: JSON.stringify({ room: 'limited', actions: [{ client_id: cid(), type: 'send_message', payload: { body } }] })
			});
			return { status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.json() };
		};
		const statuses = [];
		for (let i = 0; i < 4; i++) statuses.push((await call(ann.token, `ann ${i}`)).status);
		expect(statuses).toEqual([200, 200, 200, 429]);
		const refused = await call(ann.token, 'one more');
		expect(refused).toMatchObject({ status: 429, retryAfter: '1', body: { reason: 'rate_limited' } });
		expect((await call(bob.token, 'bob is fine')).status).toBe(200);
		await new Promise((r) => setTimeout(r, 600));
		expect((await call(ann.token, 'after a pause')).status).toBe(200);
		// Refused calls stored nothing: the room holds the accepted ones only.
		const { messages } = await syncAll(await joinRoom(started.connect(bob.token), 'limited'));
		expect(messages.map((m: { body: string }) => m.body)).toEqual(['ann 0', 'ann 1', 'ann 2', 'bob is fine', 'after a pause']);
	});

	test('a socket over its rate limit gets rate_limited and stays connected', async () => {
		server = await startServer({}, { channels: { rateLimit: { perSecond: 1, burst: 3 } } });
		const { token } = await server.signIn('Fast');
		const socket = server.connect(token);
		const channel = await joinRoom(socket, 'limits');
		const replies = [];
		for (let i = 0; i < 5; i++) replies.push(await push(channel, 'send_message', { client_id: cid(), body: `r${i}` }));
		const reasons = replies.map((r) => (r.status === 'ok' ? 'ok' : r.response.reason));
		expect(reasons.filter((r) => r === 'ok').length).toBeLessThanOrEqual(3);
		expect(reasons).toContain('rate_limited');
		expect(socket.isConnected()).toBe(true);
		await new Promise((r) => setTimeout(r, 1100));
		expect((await push(channel, 'send_message', { client_id: cid(), body: 'later' })).status).toBe('ok');
	});

	test('by default a socket may burst 300 events, then is slowed with rate_limited', async () => {
		server = await startServer();
		const { token } = await server.signIn('Burst');
		const channel = await joinRoom(server.connect(token), 'burst');
		const started = Date.now();
		const replies = await Promise.all(
			Array.from({ length: 400 }, (_, i) => push(channel, 'send_message', { client_id: cid(), body: `b${i}` }))
		);
		const seconds = (Date.now() - started) / 1000;
		const ok = replies.filter((r) => r.status === 'ok').length;
		const limited = replies.filter((r) => r.response?.reason === 'rate_limited').length;
		expect(ok).toBeGreaterThanOrEqual(300);
		// The bucket refills 100 a second while the 400 arrive: on a slow machine a few more get through, never more than that.
		expect(ok).toBeLessThanOrEqual(300 + Math.ceil(100 * seconds));
		if (seconds < 0.9) expect(limited).toBeGreaterThan(0);
		expect(ok + limited).toBe(400);
	});

	test('unknown API paths are 404 with a reason, and bodies that are not JSON are refused', async () => {
		server = await startServer();
		expect((await server.api('GET', '/api/nope')).status).toBe(404);
		const res = await fetch(server.url + '/api/session', { method: 'POST', body: 'name=x', headers: { 'content-type': 'text/plain' } });
		expect(res.status).toBe(415);
		const broken = await fetch(server.url + '/api/session', { method: 'POST', body: '{', headers: { 'content-type': 'application/json' } });
		expect(broken.status).toBe(400);
		expect(await broken.json()).toMatchObject({ reason: 'invalid' });
	});
});
