/**
 * Cluster faults on PostgreSQL, two real server processes:
 * - a node's LISTEN connection cut: NOTIFYs sent while it was away are not
 *   replayed by PostgreSQL, so once it is back the node closes its sockets
 *   (1001) and every client reconnects and syncs: the kit's view of a room
 *   holds every message sent on the other node during the gap;
 * - a node SIGKILLed mid-traffic: its kit client, behind a proxy that sends
 *   new connections to the node still up, reconnects there and loses nothing.
 */
import { randomBytes } from 'node:crypto';
import { Socket } from 'phoenix';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createPhoenixTransport } from '../../src/lib/outbox/adapters/index.js';
import { createOutbox, type Outbox } from '../../src/lib/outbox/index.js';
import { MemoryStorage } from '../../src/lib/outbox/testing/memory-storage.js';
import { seededRandom } from '../../src/lib/outbox/testing/seeded-random.js';
import { chatActions, createChat, type Chat, type ChatActions } from '../../src/lib/chat/index.js';
import { cid, joinRoom, push, syncAll, until } from './chat/harness.js';
import { adminQuery, dropSchemas, freshSchema, TEST_DATABASE_URL } from './helpers/pg.js';
import { compileServer, removeCompiled, startServerProcess, type ServerProcess } from './helpers/server-process.js';
import { startFaultProxy, type FaultProxy } from '../faults/fault-proxy.js';

const schema = freshSchema('gap');
let compiled: string;
let env: Record<string, string>;
let a: ServerProcess;
let b: ServerProcess;
let proxy: FaultProxy;
/** Where the proxy sends new connections. */
let target: ServerProcess;
const sockets: Socket[] = [];
const kits: Array<{ outbox: Outbox<ChatActions>; chat: Chat }> = [];

beforeAll(async () => {
	await adminQuery('SELECT 1');
	compiled = compileServer();
	env = { DATABASE_URL: TEST_DATABASE_URL, DATABASE_SCHEMA: schema, SECRET_KEY: randomBytes(24).toString('hex') };
	[a, b] = await Promise.all([startServerProcess(compiled, env), startServerProcess(compiled, env)]);
	target = a;
	proxy = await startFaultProxy({ target: () => target.port, random: seededRandom(3) });
}, 60_000);

afterAll(async () => {
	for (const socket of sockets) socket.disconnect();
	for (const kit of kits) {
		kit.chat.close();
		await kit.outbox.close();
	}
	await proxy?.close();
	await Promise.all([a?.stop(), b?.stop()]);
	if (compiled) removeCompiled(compiled);
	await dropSchemas([schema]);
}, 30_000);

async function signIn(server: ServerProcess, name: string): Promise<{ token: string; user: { id: string; name: string } }> {
	const res = await fetch(server.url + '/api/session', {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify({ name, password: `pw-${name}-gap` })
	});
	if (res.status !== 200) throw new Error(`sign-in failed: ${res.status}`);
	return res.json();
}

function connect(server: ServerProcess, token: string): Socket {
	const socket = new Socket(`ws://127.0.0.1:${server.port}/socket`, { transport: WebSocket as never, authToken: token, reconnectAfterMs: () => 50, timeout: 10_000 });
	socket.connect();
	sockets.push(socket);
	return socket;
}

/** The kit in Node, through the proxy, showing one room. */
function kit(token: string, user: { id: string; name: string }, topic: string) {
	const outbox: Outbox<ChatActions> = createOutbox({
		actions: chatActions,
		deps: {
			storage: new MemoryStorage(),
			transport: createPhoenixTransport({
				endpoint: `ws://127.0.0.1:${proxy.port}/socket`,
				token: () => token,
				socketOptions: { transport: WebSocket as never, heartbeatIntervalMs: 1000, reconnectAfterMs: () => 50, rejoinAfterMs: () => 50, timeout: 5000 }
			})
		},
		user,
		pushTimeoutMs: 5000,
		retry: { baseMs: 50, capMs: 500, networkDelayMs: 50, maxRetries: 100 },
		eventTarget: null
	});
	const chat = createChat(outbox, { rejectedStore: null, historyLimit: 200 });
	kits.push({ outbox, chat });
	let reconnects = 0;
	outbox.connection.subscribe((c) => void (c.status === 'connected' && c.wasDisconnected && reconnects++));
	return { outbox, room: chat.room(topic), reconnects: () => reconnects };
}

const sent = (room: { messages: readonly { clientId: string; status: string }[] }) => room.messages.filter((m) => m.status === 'sent').map((m) => m.clientId);

describe('cluster faults', () => {
	it("a node whose LISTEN connection was cut closes its sockets once back: its clients sync what was sent on the other node meanwhile", async () => {
		const reader = await signIn(a, 'gapreader');
		const writer = await signIn(b, 'gapwriter');
		const x = kit(reader.token, reader.user, 'room:gap');
		await until(() => x.outbox.connection.get().status === 'connected', 10_000, 'the reader on A');
		const onB = await joinRoom(connect(b, writer.token), 'gap');
		const first = cid('g');
		expect((await push(onB, 'send_message', { client_id: first, body: 'before' })).status).toBe('ok');
		await until(() => sent(x.room).includes(first), 5000, 'a broadcast crosses the nodes');

		const killed = await adminQuery<{ ok: boolean }>('SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name LIKE $1', [`outbox-pubsub ${a.pid} %`]);
		expect(killed).toEqual([{ ok: true }]);
		const during: string[] = [];
		for (let i = 0; i < 5; i++) {
			const id = cid('g');
			expect((await push(onB, 'send_message', { client_id: id, body: `during ${i}` })).status).toBe('ok');
			during.push(id);
		}
		// A's sockets were closed when its LISTEN came back; the reader reconnected and synced.
		await until(() => x.reconnects() > 0, 15_000, 'the reader told of the gap (its socket closed by A)');
		await until(() => during.every((id) => sent(x.room).includes(id)), 15_000, 'every message sent during the gap in the view');
		const { messages } = await syncAll(onB, null);
		expect(sent(x.room)).toEqual(messages.map((m: { client_id: string }) => m.client_id));
		expect(a.log()).toContain('pubsub gap');
	}, 60_000);

	it('a node SIGKILLed mid-traffic: its kit client reconnects to the other node through the proxy and loses nothing', async () => {
		const { token, user } = await signIn(a, 'survivor');
		const x = kit(token, user, 'room:survive');
		await until(() => x.outbox.connection.get().status === 'connected', 10_000, 'connected to A');
		const made: string[] = [];
		for (let i = 0; i < 40; i++) {
			if (i === 15) {
				target = b; // the proxy's next connections go to B, as a load balancer's would once A fails its checks
				a.child.kill('SIGKILL');
			}
			made.push((await x.outbox.add('send_message', 'room:survive', { body: `m${i}` })).id);
			if (i % 5 === 0) await new Promise((r) => setTimeout(r, 10));
		}
		await a.exited;
		await until(() => x.outbox.count === 0, 30_000, 'the queue drained on B');
		const { messages } = await syncAll(await joinRoom(connect(b, token), 'survive'), null);
		expect(messages.map((m: { client_id: string }) => m.client_id)).toEqual(made);
		expect(messages.map((m: { seq: number }) => m.seq)).toEqual(made.map((_, i) => i + 1));
		await until(() => sent(x.room).length === made.length, 10_000, 'the view');
		expect(sent(x.room)).toEqual(made);
	}, 60_000);
});
