/**
 * Cluster mode: two real server processes on one DATABASE_URL (a fresh
 * schema, through DATABASE_SCHEMA) and one SECRET_KEY form one chat. The
 * official phoenix client talks to each; tokens, messages, seqs and sign-outs
 * hold across both.
 */
import { randomBytes } from 'node:crypto';
import { Socket } from 'phoenix';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { MIGRATIONS } from '../../src/lib/server/store/pg-migrations.js';
import { cid, collect, joinRoom, push, until } from './chat/harness.js';
import { createPushLog, only } from './helpers/push-log.js';
import { adminQuery, dropSchemas, freshSchema, TEST_DATABASE_URL } from './helpers/pg.js';
import { compileServer, removeCompiled, startServerProcess, type ServerProcess } from './helpers/server-process.js';

const schema = freshSchema('cluster');
let compiled: string;
let a: ServerProcess;
let b: ServerProcess;
const sockets: Socket[] = [];

beforeAll(async () => {
	await adminQuery('SELECT 1'); // fails at once, with the how-to, when PostgreSQL is not there
	compiled = compileServer();
	const env = { DATABASE_URL: TEST_DATABASE_URL, DATABASE_SCHEMA: schema, SECRET_KEY: randomBytes(24).toString('hex') };
	// Started together: both migrate the new schema at once, which must work.
	[a, b] = await Promise.all([startServerProcess(compiled, env), startServerProcess(compiled, env)]);
}, 30_000);

afterAll(async () => {
	for (const socket of sockets) socket.disconnect();
	await Promise.all([a?.stop(), b?.stop()]);
	if (compiled) removeCompiled(compiled);
	await dropSchemas([schema]);
});

async function api(server: ServerProcess, method: string, path: string, body?: unknown, token?: string) {
	const headers: Record<string, string> = {};
	if (body !== undefined) headers['content-type'] = 'application/json';
	if (token) headers.authorization = `Bearer ${token}`;
	const res = await fetch(server.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
	const text = await res.text();
	return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function signIn(server: ServerProcess, name: string): Promise<{ token: string; user: { id: string; name: string } }> {
	const res = await api(server, 'POST', '/api/session', { name, password: `pw-${name}` });
	if (res.status !== 200) throw new Error(`sign-in on ${server.url} failed: ${res.status} ${JSON.stringify(res.body)}`);
	return res.body;
}

function connect(server: ServerProcess, token: string): Socket {
	const socket = new Socket(`ws://127.0.0.1:${server.port}/socket`, {
		transport: WebSocket as any,
		authToken: token,
		heartbeatIntervalMs: 1000,
		reconnectAfterMs: () => 50,
		timeout: 20_000 // 200 sends at once on a machine shared with the generator: replies may take seconds
	});
	socket.connect();
	sockets.push(socket);
	return socket;
}

describe('two server processes on one PostgreSQL', () => {
	it('accepts on B a token signed in on A, and carries a message sent through A to a socket on B', async () => {
		const ada = await signIn(a, 'Ada');
		expect((await api(b, 'GET', '/api/session', undefined, ada.token)).status).toBe(200);
		const bob = await signIn(b, 'Bob');

		const onB = await joinRoom(connect(b, ada.token), 'lobby');
		const seenOnB = collect(onB, 'new_message');
		const onA = await joinRoom(connect(a, bob.token), 'lobby');
		const client_id = cid('x');
		const reply = await push(onA, 'send_message', { client_id, body: 'hello from A' });
		expect(reply.status).toBe('ok');

		await until(() => seenOnB.length > 0, 5000, 'new_message on B');
		expect(seenOnB).toEqual([{ message: reply.response.message }]);
		expect(reply.response.message).toMatchObject({ client_id, body: 'hello from A', seq: 1, author: { id: bob.user.id } });
	});

	it("allocates gap-free seqs while clients on both servers send 100 each at once, and each hears the other's 100", async () => {
		const cy = await signIn(a, 'Cy');
		const dee = await signIn(b, 'Dee');
		const onA = await joinRoom(connect(a, cy.token), 'race');
		const onB = await joinRoom(connect(b, dee.token), 'race');
		const seenOnA = collect(onA, 'new_message');
		const seenOnB = collect(onB, 'new_message');

		const sendAll = (channel: typeof onA, prefix: string) =>
			Promise.all(Array.from({ length: 100 }, (_, i) => push(channel, 'send_message', { client_id: cid(prefix), body: `${prefix} ${i}` })));
		const [fromA, fromB] = await Promise.all([sendAll(onA, 'a'), sendAll(onB, 'b')]);
		const replies = [...fromA, ...fromB];
		expect(replies.filter((r) => r.status !== 'ok')).toEqual([]);
		const seqs = replies.map((r) => r.response.message.seq).sort((x, y) => x - y);
		const expected = Array.from({ length: 200 }, (_, i) => i + 1);
		expect(seqs).toEqual(expected);

		// Each socket hears the other's 100 (its own came back in its replies), each once.
		const seqsOf = (seen: any[]) => seen.map((p) => p.message.seq).sort((x: number, y: number) => x - y);
		const sentSeqs = (from: typeof fromA) => from.map((r) => r.response.message.seq).sort((x, y) => x - y);
		await until(() => seenOnA.length >= 100 && seenOnB.length >= 100, 10_000, '100 new_message on each server');
		await new Promise((r) => setTimeout(r, 200)); // room for a duplicate to show up
		expect(seqsOf(seenOnA)).toEqual(sentSeqs(fromB));
		expect(seqsOf(seenOnB)).toEqual(sentSeqs(fromA));
	});

	it("skips only the sending socket, on whichever node: the sender's tabs on A and B and another user hear it; a batch is one changes", async () => {
		const gil = await signIn(a, 'Gil');
		const hal = await signIn(b, 'Hal');
		const mark = await signIn(a, 'Marker');
		const sockets = { gilA1: connect(a, gil.token), gilA2: connect(a, gil.token), gilB: connect(b, gil.token), halB: connect(b, hal.token) };
		const log = createPushLog('room:from', sockets);
		const [gilA1, , gilB] = await Promise.all(Object.values(sockets).map((socket) => joinRoom(socket, 'from')));
		const markOn = { a: await joinRoom(connect(a, mark.token), 'from'), b: await joinRoom(connect(b, mark.token), 'from') };

		const single = await push(gilA1!, 'send_message', { client_id: cid(), body: 'from A1' });
		const batch = await push(gilA1!, 'send_batch', {
			actions: ['one', 'two'].map((body) => ({ client_id: cid(), type: 'send_message', payload: { body } }))
		});
		const fromA = [
			...only('new_message', { message: single.response.message }),
			...only('changes', { messages: batch.response.results.map((r: any) => r.message) })
		];
		expect(await log.settle(markOn.a)).toEqual({ gilA1: [], gilA2: fromA, gilB: fromA, halB: fromA });

		// The same from the socket on B: the node holding it skips it, A does not have it.
		const onB = await push(gilB!, 'send_batch', {
			actions: ['three', 'four'].map((body) => ({ client_id: cid(), type: 'send_message', payload: { body } }))
		});
		const fromB = only('changes', { messages: onB.response.results.map((r: any) => r.message) });
		expect(await log.settle(markOn.b)).toEqual({ gilA1: fromB, gilA2: fromB, gilB: [], halB: fromB });

		// HTTP has no socket: every socket hears it, the caller's own on both nodes included.
		const viaHttp = await api(b, 'POST', '/api/sync/events', { room: 'from', actions: [{ client_id: cid(), type: 'send_message', payload: { body: 'sw' } }] }, gil.token);
		expect(viaHttp.status).toBe(200);
		const fromHttp = only('new_message', { message: viaHttp.body.results[0].message });
		expect(await log.settle(markOn.b)).toEqual({ gilA1: fromHttp, gilA2: fromHttp, gilB: fromHttp, halB: fromHttp });
	});

	it("closes that user's socket on B with 1001 when the session is deleted on A", async () => {
		const eve = await signIn(a, 'Eve');
		const other = await signIn(a, 'Fay');
		const socket = connect(b, eve.token);
		const closes: number[] = [];
		socket.onClose((event: any) => void closes.push(event.code));
		await joinRoom(socket, 'lobby');
		const bystander = connect(b, other.token);
		const bystanderCloses: number[] = [];
		bystander.onClose((event: any) => void bystanderCloses.push(event.code));
		await joinRoom(bystander, 'lobby');

		expect((await api(a, 'DELETE', '/api/session', undefined, eve.token)).status).toBe(200);
		await until(() => closes.length > 0, 5000, 'close on B');
		expect(closes[0]).toBe(1001);
		expect((await api(b, 'GET', '/api/session', undefined, eve.token)).status).toBe(401);
		socket.disconnect();
		// B had Eve's user cached from her connect: the revoked token still opens nothing there.
		const upgrade = await new Promise<number | 'open'>((resolve) => {
			const ws = new WebSocket(`${b.url.replace(/^http/, 'ws')}/socket/websocket?vsn=2.0.0&token=${eve.token}`);
			ws.once('open', () => (ws.close(), resolve('open')));
			ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
		});
		expect(upgrade).toBe(403);
		expect(bystanderCloses).toEqual([]);
		expect(bystander.isConnected()).toBe(true);
	});

	it('keeps one schema version and one set of rows for both processes', async () => {
		const versions = await adminQuery<{ version: number }>(`SELECT version FROM "${schema}".schema_migrations ORDER BY version`);
		expect(versions.map((v) => v.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
		const users = await adminQuery<{ name: string }>(`SELECT name FROM "${schema}".users ORDER BY name`);
		expect(users.map((u) => u.name)).toEqual(['Ada', 'Bob', 'Cy', 'Dee', 'Eve', 'Fay', 'Gil', 'Hal', 'Marker']);
	});
});
