/**
 * `WORKERS=2` with PostgreSQL: two server processes share one port through
 * node:cluster. Sockets from the official client land on both workers (read
 * from /proc: which process holds each connection), a message sent through a
 * socket on one reaches the sockets on the other, and a worker that dies is
 * replaced while the other keeps serving.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { Socket } from 'phoenix';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { cid, collect, joinRoom, push, until } from './chat/harness.js';
import { adminQuery, dropSchemas, freshSchema, TEST_DATABASE_URL } from './helpers/pg.js';
import { compileServer, removeCompiled, startServerProcess, type ServerProcess } from './helpers/server-process.js';

const schema = freshSchema('workers');
let compiled: string;
let server: ServerProcess;
const sockets: Socket[] = [];

beforeAll(async () => {
	await adminQuery('SELECT 1');
	compiled = compileServer();
	const env = { WORKERS: '2', DATABASE_URL: TEST_DATABASE_URL, DATABASE_SCHEMA: schema, SECRET_KEY: randomBytes(24).toString('hex') };
	server = await startServerProcess(compiled, env, 2);
}, 30_000);

afterAll(async () => {
	for (const socket of sockets) socket.disconnect();
	await server?.stop();
	if (compiled) removeCompiled(compiled);
	await dropSchemas([schema]);
});

/** Established TCP connections on the server's port, counted by the pid holding them (from /proc). */
function connectionsByPid(port: number): Map<number, number> {
	const inodes = new Set<string>();
	for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
		const cols = line.trim().split(/\s+/);
		if (cols.length < 10) continue;
		const localPort = parseInt(cols[1]!.split(':')[1]!, 16);
		if (localPort === port && cols[3] === '01') inodes.add(cols[9]!);
	}
	const counts = new Map<number, number>();
	for (const pid of server.listeningPids()) {
		let fds: string[] = [];
		try {
			fds = readdirSync(`/proc/${pid}/fd`);
		} catch {
			continue; // that worker is gone
		}
		for (const fd of fds) {
			try {
				const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
				if (inode && inodes.has(inode)) counts.set(pid, (counts.get(pid) ?? 0) + 1);
			} catch {
				// closed meanwhile
			}
		}
	}
	return counts;
}

function connect(token: string): Socket {
	const socket = new Socket(`ws://127.0.0.1:${server.port}/socket`, {
		transport: WebSocket as any,
		authToken: token,
		heartbeatIntervalMs: 1000,
		reconnectAfterMs: () => 50,
		rejoinAfterMs: () => 50,
		timeout: 5000
	});
	socket.connect();
	sockets.push(socket);
	return socket;
}

async function signIn(name: string): Promise<{ token: string; user: { id: string } }> {
	const res = await fetch(`${server.url}/api/session`, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify({ name, password: `pw-${name}` })
	});
	expect(res.status).toBe(200);
	return res.json() as Promise<{ token: string; user: { id: string } }>;
}

describe('WORKERS=2 on PostgreSQL', () => {
	it('shares one port between two workers, and a message through one reaches sockets on the other', async () => {
		expect(new Set(server.listeningPids()).size).toBe(2);
		expect(server.listeningPids()).not.toContain(server.pid);
		const ann = await signIn('Ann');
		const bob = await signIn('Bob');
		// Round-robin hands consecutive connections to alternate workers; four make sure both have some.
		const rooms = await Promise.all([ann, bob, ann, bob].map(async (u) => joinRoom(connect(u.token), 'shared')));
		const byPid = connectionsByPid(server.port);
		expect([...byPid.values()].reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(4);
		expect(byPid.size).toBe(2);

		const heard = rooms.map((room) => collect(room, 'new_message'));
		const reply = await push(rooms[0]!, 'send_message', { client_id: cid('w'), body: 'across workers' });
		expect(reply.status).toBe('ok');
		await until(() => heard.slice(1).every((h) => h.length === 1), 5000, 'the message on the other three sockets');
		for (const h of heard.slice(1)) expect(h).toEqual([{ message: reply.response.message }]);
		expect(heard[0]).toEqual([]);
	});

	it('replaces a worker that dies; its clients reconnect to the cluster and lose nothing', async () => {
		const cy = await signIn('Cy');
		const counted = connectionsByPid(server.port);
		const socket = connect(cy.token);
		const room = await joinRoom(socket, 'survivor');
		// The worker holding Cy's socket: the one with one more connection than before.
		const victim = [...connectionsByPid(server.port)].find(([pid, n]) => n > (counted.get(pid) ?? 0))?.[0];
		expect(victim).toBeDefined();
		const before = server.listeningPids().length;
		process.kill(victim!, 'SIGKILL');
		await until(() => server.listeningPids().length > before, 10_000, 'a new worker listening');
		await until(() => room.state === 'joined' && socket.isConnected(), 10_000, 'rejoined');
		const reply = await push(room, 'send_message', { client_id: cid('s'), body: 'after the restart' });
		expect(reply).toMatchObject({ status: 'ok', response: { message: { body: 'after the restart', seq: 1 } } });
		const alive = server.listeningPids().filter((pid) => {
			try {
				process.kill(pid, 0);
				return true;
			} catch {
				return false;
			}
		});
		expect(alive).toHaveLength(2);
	});
});
