/**
 * SIGTERM drains (DESIGN.md "Operations"): the server stops accepting,
 * finishes the HTTP calls and channel events already in flight (also a
 * request on a connection accepted but not yet read), closes sockets with
 * 1001 and exits 0. Every action gets a reply or a retryable error, and none
 * is lost: the database is read afterwards, the failed ones are sent again
 * to the restarted server, and each of the 50 is there exactly once.
 */
import Database from 'better-sqlite3';
import { connect as tcpConnect, type Socket as TcpSocket } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import { Socket, type Channel } from 'phoenix';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { WebSocket } from 'ws';
import { TEST_DATABASE_URL, dropSchemas, freshSchema } from '../helpers/pg.js';
import { compileServer, removeCompiled, startServerProcess, type ServerProcess } from '../helpers/server-process.js';

type Outcome = { kind: 'ok'; id: string; seq: number } | { kind: 'retryable'; why: string } | { kind: 'refused'; why: string };

const RETRYABLE_REASONS = new Set(['internal', 'rate_limited']);

let compiled: string;
beforeAll(() => {
	compiled = compileServer();
});
afterAll(() => removeCompiled(compiled));

async function signIn(url: string, name: string): Promise<string> {
	const res = await fetch(url + '/api/session', {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify({ name, password: `pw-${name}` })
	});
	if (res.status !== 200) throw new Error(`sign-in: ${res.status}`);
	return (await res.json()).token;
}

function action(clientId: string) {
	return { client_id: clientId, type: 'send_message', payload: { client_id: clientId, body: `body of ${clientId}` } };
}

/** One action over `POST /api/sync/events`: ok, or why it may be retried (network, 5xx, 429), or a refusal. */
async function sendHttp(url: string, token: string, room: string, clientId: string): Promise<Outcome> {
	try {
		const res = await fetch(url + '/api/sync/events', {
			method: 'POST',
			headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
			body: JSON.stringify({ room, actions: [action(clientId)] })
		});
		const body = await res.json();
		if (res.status === 200 && body.results[0].status === 'ok') return { kind: 'ok', id: body.results[0].message.id, seq: body.results[0].message.seq };
		if (res.status >= 500 || res.status === 429) return { kind: 'retryable', why: `HTTP ${res.status}` };
		return { kind: 'refused', why: `HTTP ${res.status} ${JSON.stringify(body)}` };
	} catch (error) {
		return { kind: 'retryable', why: `network: ${(error as Error & { cause?: Error }).cause?.message ?? (error as Error).message}` };
	}
}

function openSocket(url: string, token: string): { socket: Socket; closeCodes: number[] } {
	const closeCodes: number[] = [];
	const socket = new Socket(url.replace('http', 'ws') + '/socket', {
		transport: WebSocket as never,
		authToken: token,
		timeout: 20_000,
		// The test restarts the server itself; no reconnect in between.
		reconnectAfterMs: () => 600_000,
		rejoinAfterMs: () => 600_000
	});
	socket.onClose((event: { code: number }) => void closeCodes.push(event.code));
	socket.connect();
	return { socket, closeCodes };
}

function joinRoom(socket: Socket, room: string): Promise<Channel> {
	const channel = socket.channel(`room:${room}`);
	return new Promise((resolve, reject) => channel.join().receive('ok', () => resolve(channel)).receive('error', reject).receive('timeout', reject));
}

/** One action over the socket: ok, retryable (error reason, timeout, socket closed), or a refusal. */
function sendSocket(channel: Channel, clientId: string, socket: Socket): Promise<Outcome> {
	return new Promise((resolve) => {
		if (!socket.isConnected()) return resolve({ kind: 'retryable', why: 'socket closed' });
		const ref = socket.onClose(() => settle({ kind: 'retryable', why: 'socket closed' }));
		let done = false;
		const settle = (outcome: Outcome) => {
			if (done) return;
			done = true;
			socket.off([ref]);
			resolve(outcome);
		};
		channel
			.push('send_message', { client_id: clientId, body: `body of ${clientId}` }, 20_000)
			.receive('ok', ({ message }: { message: { id: string; seq: number } }) => settle({ kind: 'ok', id: message.id, seq: message.seq }))
			.receive('error', ({ reason }: { reason: string }) => settle(RETRYABLE_REASONS.has(reason) ? { kind: 'retryable', why: reason } : { kind: 'refused', why: reason }))
			.receive('timeout', () => settle({ kind: 'retryable', why: 'timeout' }));
	});
}

/** A raw HTTP/1.1 request written on an already-open TCP connection; resolves with the raw answer. */
function rawRequest(connection: TcpSocket, request: string): Promise<string> {
	return new Promise((resolve) => {
		let answer = '';
		connection.on('data', (chunk) => (answer += chunk));
		connection.on('close', () => resolve(answer));
		connection.on('error', () => resolve(answer));
		connection.write(request);
	});
}

describe('SIGTERM with the embedded database', () => {
	test('50 actions over HTTP and sockets while SIGTERM arrives: each answered or retryable, exit 0, 1001, none lost', async () => {
		const server = await startServerProcess(compiled, {});
		const token = await signIn(server.url, 'drainer');
		const sockets = [openSocket(server.url, token), openSocket(server.url, token)];
		const channels = await Promise.all(sockets.map(({ socket }) => joinRoom(socket, 'drain')));
		// Keep-alive connections open and idle, as a busy client has: requests on them after the
		// SIGTERM are still read and answered (each with Connection: close).
		await Promise.all(Array.from({ length: 12 }, () => fetch(server.url + '/api/session', { headers: { authorization: `Bearer ${token}` } }).then((r) => r.text())));
		const pending = new Map<string, Promise<Outcome>>();
		const fire = (i: number) => {
			const http = `h-${String(i).padStart(2, '0')}`;
			const ws = `s-${String(i).padStart(2, '0')}`;
			pending.set(http, sendHttp(server.url, token, 'drain', http));
			pending.set(ws, sendSocket(channels[i % 2]!, ws, sockets[i % 2]!.socket));
		};
		for (let i = 0; i < 10; i++) fire(i);
		server.child.kill('SIGTERM');
		for (let i = 10; i < 25; i++) {
			fire(i);
			await new Promise((resolve) => setImmediate(resolve));
		}
		const outcomes = new Map<string, Outcome>();
		for (const [clientId, outcome] of pending) outcomes.set(clientId, await outcome);

		expect((await server.exited).code).toBe(0);
		const refused = [...outcomes].filter(([, o]) => o.kind === 'refused');
		expect(refused).toEqual([]);
		for (const { closeCodes } of sockets) expect(closeCodes[0]).toBe(1001);
		for (const { socket } of sockets) socket.disconnect();

		// What the database holds: every acknowledged action, once, as acknowledged.
		const db = new Database(join(server.dataDir, 'outbox.db'), { readonly: true });
		const rows = db.prepare('SELECT id, client_id, seq FROM messages WHERE room = ? ORDER BY seq').all('drain') as Array<{ id: number; client_id: string; seq: number }>;
		db.close();
		const stored = new Map(rows.map((row) => [row.client_id, row]));
		expect(stored.size).toBe(rows.length);
		for (const [clientId, outcome] of outcomes) {
			if (outcome.kind === 'ok') expect(stored.get(clientId), clientId).toMatchObject({ id: Number(outcome.id), seq: outcome.seq });
		}

		// Restarted on the same data: the retryable ones sent again; all 50 once, seqs 1..50.
		const again = await startServerProcess(compiled, {}, { dataDir: server.dataDir });
		try {
			const token2 = await signIn(again.url, 'drainer');
			const retried = [...outcomes].filter(([, o]) => o.kind !== 'ok').map(([clientId]) => clientId);
			if (retried.length) {
				// As a client's queue would: in one batch (one call, not one per action: the per-user limit).
				const res = await fetch(again.url + '/api/sync/events', {
					method: 'POST',
					headers: { 'content-type': 'application/json', authorization: `Bearer ${token2}` },
					body: JSON.stringify({ room: 'drain', actions: retried.map(action) })
				});
				expect(res.status).toBe(200);
				expect((await res.json()).results.map((r: { status: string }) => r.status)).toEqual(retried.map(() => 'ok'));
			}
			// A replay of an acknowledged one changes nothing.
			const acked = [...outcomes].find(([, o]) => o.kind === 'ok');
			if (acked) expect(await sendHttp(again.url, token2, 'drain', acked[0])).toEqual(acked[1]);
			const check = new Database(join(server.dataDir, 'outbox.db'), { readonly: true });
			const all = check.prepare('SELECT client_id, seq FROM messages WHERE room = ? ORDER BY seq').all('drain') as Array<{ client_id: string; seq: number }>;
			check.close();
			expect(all.map((row) => row.client_id).sort()).toEqual([...outcomes.keys()].sort());
			expect(all.map((row) => row.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
		} finally {
			await again.stop();
		}
	});
});

describe('SIGTERM with PostgreSQL, the room held locked so that work is surely in flight', () => {
	const schema = freshSchema('drain');
	afterAll(() => dropSchemas([schema]));

	test('in-flight HTTP calls, channel events and a request on an idle connection finish before the exit; new connections are refused', async () => {
		const server = await startServerProcess(compiled, { DATABASE_URL: TEST_DATABASE_URL, DATABASE_SCHEMA: schema, SECRET_KEY: 'drain-test-secret-0123456789' });
		const token = await signIn(server.url, 'holder');
		const sockets = [0, 1, 2].map(() => openSocket(server.url, token));
		const channels = await Promise.all(sockets.map(({ socket }) => joinRoom(socket, 'held')));
		// An accepted keep-alive connection with nothing sent on it yet.
		const idle = tcpConnect(new URL(server.url).port ? Number(new URL(server.url).port) : 80, '127.0.0.1');
		await new Promise((resolve) => idle.once('connect', resolve));

		const lock = new pg.Client({ connectionString: TEST_DATABASE_URL, options: `-c search_path=${schema}` });
		await lock.connect();
		try {
			await lock.query('BEGIN');
			await lock.query("SELECT 1 FROM rooms WHERE slug = 'held' FOR UPDATE");
			const http = ['p-1', 'p-2', 'p-3'].map((id) => sendHttp(server.url, token, 'held', id));
			const ws = channels.map((channel, i) => sendSocket(channel, `q-${i + 1}`, sockets[i]!.socket));
			// Wait until all six writers are blocked on the room lock (activity figures are a
			// per-transaction snapshot: cleared before each look).
			await expect
				.poll(async () => (await lock.query('SELECT pg_stat_clear_snapshot()'), await lock.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND application_name LIKE 'outbox-store%'")).rows[0].n, { timeout: 15_000 })
				.toBe(6);

			server.child.kill('SIGTERM');
			// New connections are refused at once...
			await expect.poll(async () => fetch(server.url + '/healthz').then(() => 'answered', (e: Error & { cause?: { code?: string } }) => e.cause?.code)).toBe('ECONNREFUSED');
			// ...while a request on the connection accepted before is still read and answered, with Connection: close.
			const body = JSON.stringify({ room: 'held', actions: [action('p-idle')] });
			const answer = rawRequest(
				idle,
				`POST /api/sync/events HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
			);
			await new Promise((resolve) => setTimeout(resolve, 1000));
			expect(server.child.exitCode).toBeNull();

			await lock.query('COMMIT');
			const outcomes = [...(await Promise.all(http)), ...(await Promise.all(ws))];
			expect(outcomes.map((o) => o.kind)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'ok']);
			const raw = await answer;
			expect(raw).toMatch(/^HTTP\/1.1 200 OK/);
			expect(raw).toMatch(/\r\nconnection: close\r\n/i);
			expect(raw).toContain('"status":"ok"');
			expect((await server.exited).code).toBe(0);
			for (const { closeCodes } of sockets) expect(closeCodes[0]).toBe(1001);
			const { rows } = await lock.query("SELECT client_id FROM messages WHERE room = 'held' ORDER BY seq");
			expect(rows.map((row: { client_id: string }) => row.client_id).sort()).toEqual(['p-1', 'p-2', 'p-3', 'p-idle', 'q-1', 'q-2', 'q-3']);
		} finally {
			for (const { socket } of sockets) socket.disconnect();
			idle.destroy();
			await lock.query('ROLLBACK').catch(() => {});
			await lock.end();
			await server.stop();
		}
	});
});
