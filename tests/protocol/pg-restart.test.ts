/**
 * PostgreSQL itself restarted mid-traffic (`pg_ctl restart -m immediate`:
 * every connection dropped at once, as in a crash) under two server nodes,
 * each with a kit client sending into one room: the nodes stay up, their
 * pools and LISTEN connections reconnect, the actions in flight are retried by
 * the kit, and the checker of the fault schedules finds every action once, in
 * each client's order, `seq` without a gap, and both views equal to the
 * server. A private PostgreSQL (tests/protocol/helpers/private-pg.ts): the
 * shared one stays up for the other suites.
 */
import { randomBytes } from 'node:crypto';
import { Socket } from 'phoenix';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createPhoenixTransport } from '../../src/lib/outbox/adapters/index.js';
import { createOutbox, type Outbox } from '../../src/lib/outbox/index.js';
import { MemoryStorage } from '../../src/lib/outbox/testing/memory-storage.js';
import { chatActions, createChat, type Chat, type ChatActions } from '../../src/lib/chat/index.js';
import { checkSchedule, type MadeAction } from '../faults/checker.js';
import { joinRoom, syncAll, until } from './chat/harness.js';
import { startPrivatePostgres, type PrivatePostgres } from './helpers/private-pg.js';
import { compileServer, removeCompiled, startServerProcess, type ServerProcess } from './helpers/server-process.js';

/** The private PostgreSQL's port: the first free one from here (outside the shared 5432). */
const PG_PORT = 42110;

let pg: PrivatePostgres;
let compiled: string;
const nodes: ServerProcess[] = [];
const sockets: Socket[] = [];
const kits: Array<{ outbox: Outbox<ChatActions>; chat: Chat }> = [];

beforeAll(async () => {
	pg = await startPrivatePostgres(PG_PORT);
	compiled = compileServer();
	const env = { DATABASE_URL: pg.url, SECRET_KEY: randomBytes(24).toString('hex') };
	nodes.push(await startServerProcess(compiled, env)); // the first node migrates
	nodes.push(await startServerProcess(compiled, env));
}, 120_000);

afterAll(async () => {
	for (const socket of sockets) socket.disconnect();
	for (const kit of kits) {
		kit.chat.close();
		await kit.outbox.close();
	}
	await Promise.all(nodes.map((node) => node.stop()));
	if (compiled) removeCompiled(compiled);
	await pg?.close();
}, 60_000);

async function signIn(node: ServerProcess, name: string): Promise<{ token: string; user: { id: string; name: string } }> {
	const res = await fetch(node.url + '/api/session', {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify({ name, password: `pw-${name}-restart` })
	});
	if (res.status !== 200) throw new Error(`sign-in failed: ${res.status}`);
	return res.json();
}

function kit(node: ServerProcess, token: string, user: { id: string; name: string }, topic: string) {
	const outbox: Outbox<ChatActions> = createOutbox({
		actions: chatActions,
		deps: {
			storage: new MemoryStorage(),
			transport: createPhoenixTransport({
				endpoint: `ws://127.0.0.1:${node.port}/socket`,
				token: () => token,
				socketOptions: { transport: WebSocket as never, heartbeatIntervalMs: 1000, reconnectAfterMs: () => 50, rejoinAfterMs: () => 50, timeout: 5000 }
			})
		},
		user,
		pushTimeoutMs: 5000,
		retry: { baseMs: 50, capMs: 500, networkDelayMs: 50, maxRetries: 1000 },
		eventTarget: null
	});
	const chat = createChat(outbox, { rejectedStore: null, historyLimit: 200 });
	kits.push({ outbox, chat });
	return { outbox, room: chat.room(topic) };
}

describe('PostgreSQL restarted mid-traffic', () => {
	it('two nodes survive it; every action is stored once, in order, without a seq gap; every view equals the server', async () => {
		const ann = await signIn(nodes[0] as ServerProcess, 'restart-ann');
		const bob = await signIn(nodes[1] as ServerProcess, 'restart-bob');
		const clients = [
			{ name: 'ann', ...kit(nodes[0] as ServerProcess, ann.token, ann.user, 'room:restart'), user: ann.user },
			{ name: 'bob', ...kit(nodes[1] as ServerProcess, bob.token, bob.user, 'room:restart'), user: bob.user }
		];
		for (const c of clients) await until(() => c.outbox.connection.get().status === 'connected', 10_000, `${c.name} connected`);

		const made: MadeAction[] = [];
		let restart: Promise<unknown> = Promise.resolve();
		let restarted = 0;
		for (let i = 0; i < 40; i++) {
			// Twice: once early, once while the nodes are still catching up on the first.
			if (i === 8 || i === 24) restart = restart.then(() => pg.restart()).then(() => void restarted++);
			for (const c of clients) {
				const item = await c.outbox.add('send_message', 'room:restart', { body: `${c.name} ${i}` });
				made.push({ clientId: item.id, room: 'restart', author: c.user.id, tab: c.name });
			}
			await new Promise((r) => setTimeout(r, 25));
		}
		await restart;
		expect(restarted).toBe(2);
		const drained = await until(() => clients.every((c) => c.outbox.count === 0), 60_000, 'both queues drained').catch(() => false);
		if (!drained) {
			for (const c of clients) console.error(c.name, c.outbox.connection.get().status, c.outbox.list().map((item) => `${item.status}:${item.lastError?.reason ?? ''}:${item.attempts ?? ''}`).join(' '));
			for (const node of nodes) console.error(`node ${node.pid} (exit ${node.child.exitCode}):\n${node.log().slice(-3000)}`);
			for (const c of clients) console.error(c.name, 'channel', c.outbox.deps.transport.channelState('room:restart'), c.outbox.session.get().phase);
		}
		expect(drained).toBeTruthy();

		const socket = new Socket(`ws://127.0.0.1:${(nodes[0] as ServerProcess).port}/socket`, { transport: WebSocket as never, authToken: ann.token, timeout: 10_000 });
		socket.connect();
		sockets.push(socket);
		const { messages } = await syncAll(await joinRoom(socket, 'restart'), null);
		const server = { restart: messages };
		const views = () => clients.map((c) => ({ tab: c.name, room: 'restart', clientIds: c.room.messages.filter((m) => m.status === 'sent').map((m) => m.clientId) }));
		await until(() => checkSchedule(made, server, views()).length === 0, 20_000, 'the views agree with the server').catch(() => {});
		expect(checkSchedule(made, server, views())).toEqual([]);
		expect(messages.length).toBe(80);
		for (const node of nodes) {
			expect(node.child.exitCode).toBeNull();
			expect(node.log()).toContain('pubsub gap'); // logged once its LISTEN connection is back
		}
	}, 120_000);
});
