/**
 * Server throughput, side by side in one run: acked `send_message`s per
 * second through the real server and the official phoenix client, sent
 * (a) one at a time awaiting each reply, (b) pipelined, (c) as `send_batch`
 * of 100; plus the SQLite store alone (one call at a time, ten calls at once
 * sharing a commit, one call of 100 actions).
 * The clients run in this same process, so their CPU is part of the cost.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Socket, type Channel } from 'phoenix';
import { WebSocket } from 'ws';
import { createHttpServer, createOutboxServer } from '../src/lib/server/app.js';
import { configFromEnv } from '../src/lib/server/config.js';
import { createSqliteStore } from '../src/lib/server/store/sqlite-store.js';
import { result, type Result } from './lib/result.js';


const SOCKETS = Number(process.env.BENCH_SOCKETS ?? 10);
const PER_SOCKET = Number(process.env.BENCH_PER_SOCKET ?? 1000);
let n = 0;
const cid = () => `b${(n++).toString(36)}`;

function push(channel: Channel, event: string, payload: object): Promise<any> {
	return new Promise((resolve, reject) =>
		channel
			.push(event, payload, 30_000)
			.receive('ok', resolve)
			.receive('error', (e) => reject(new Error(JSON.stringify(e))))
			.receive('timeout', () => reject(new Error('timeout')))
	);
}

async function timed(name: string, messages: number, run: () => Promise<void>): Promise<Result> {
	const start = process.hrtime.bigint();
	await run();
	return result(name, messages, Number(process.hrtime.bigint() - start) / 1e6);
}

async function serverRuns(): Promise<Result[]> {
	const dataDir = mkdtempSync(join(tmpdir(), 'outbox-bench-'));
	const outbox = await createOutboxServer({ ...configFromEnv({}), dataDir, logLevel: 'silent' }, { channels: { rateLimit: undefined } });
	const http = createHttpServer(outbox);
	await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
	const { port } = http.address() as AddressInfo;
	const results: Result[] = [];
	try {
		const channels: Channel[] = [];
		const sockets: Socket[] = [];
		for (let i = 0; i < SOCKETS; i++) {
			const res = await fetch(`http://127.0.0.1:${port}/api/session`, {
				method: 'POST',
				headers: { 'content-type': 'application/json' },
				body: JSON.stringify({ name: `bench${i}`, password: 'bench' })
			});
			const { token } = (await res.json()) as { token: string };
			const socket = new Socket(`ws://127.0.0.1:${port}/socket`, { transport: WebSocket as never, authToken: token, timeout: 30_000 });
			socket.connect();
			sockets.push(socket);
			const channel = socket.channel(`room:bench-${i % 3}`);
			await new Promise((resolve, reject) => channel.join().receive('ok', resolve).receive('error', reject));
			channels.push(channel);
		}
		const total = SOCKETS * PER_SOCKET;
		results.push(
			await timed(`server: one at a time, ${SOCKETS} sockets`, total / 10, () =>
				Promise.all(channels.map(async (ch) => {
					for (let i = 0; i < PER_SOCKET / 10; i++) await push(ch, 'send_message', { client_id: cid(), body: 'hello' });
				})).then(() => undefined)
			)
		);
		results.push(
			await timed(`server: pipelined pushes, ${SOCKETS} sockets`, total, () =>
				Promise.all(channels.flatMap((ch) => Array.from({ length: PER_SOCKET }, () => push(ch, 'send_message', { client_id: cid(), body: 'hello' })))).then(() => undefined)
			)
		);
		results.push(
			await timed(`server: send_batch of 100, ${SOCKETS} sockets`, total, () =>
				Promise.all(channels.map(async (ch) => {
					for (let b = 0; b < PER_SOCKET / 100; b++) {
						const actions = Array.from({ length: 100 }, () => ({ client_id: cid(), type: 'send_message', payload: { body: 'hello' } }));
						await push(ch, 'send_batch', { actions });
					}
				})).then(() => undefined)
			)
		);
		for (const s of sockets) s.disconnect();
	} finally {
		http.closeAllConnections();
		await new Promise((r) => http.close(r));
		await outbox.close();
		rmSync(dataDir, { recursive: true, force: true });
	}
	return results;
}

async function storeRuns(): Promise<Result[]> {
	const dir = mkdtempSync(join(tmpdir(), 'outbox-bench-store-'));
	const store = createSqliteStore({ file: join(dir, 'db.sqlite') });
	const { user } = await store.createUser('bench author', 'not-a-real-hash');
	const author = { id: user.id, name: user.name };
	const action = () => ({ type: 'send_message' as const, client_id: cid(), payload: { client_id: '', body: 'hello' } });
	const results: Result[] = [];
	try {
		results.push(
			await timed('store: one action per transaction', 5000, async () => {
				for (let i = 0; i < 5000; i++) await store.applyActions(author, 'store-bench', [action()]);
			})
		);
		results.push(
			await timed('store: one action per call, 10 calls at once (group commit)', 5000, async () => {
				for (let i = 0; i < 500; i++) {
					await Promise.all(Array.from({ length: 10 }, () => store.applyActions(author, 'store-bench', [action()])));
				}
			})
		);
		results.push(
			await timed('store: 100 actions per transaction', 50_000, async () => {
				for (let i = 0; i < 500; i++) await store.applyActions(author, 'store-bench', Array.from({ length: 100 }, action));
			})
		);
	} finally {
		await store.close();
		rmSync(dir, { recursive: true, force: true });
	}
	return results;
}

const results = [...(await storeRuns()), ...(await serverRuns())];
console.log('BENCH_JSON ' + JSON.stringify(results));
