/**
 * A fault in one request or one socket costs that request (a 500, or a cut
 * connection once headers went out) or that channel, never the process: a
 * page handler that throws, rejects, or dies mid-answer; a static file that
 * vanished or cannot be read; a store call that fails. Each test then shows
 * the same server still answering.
 */
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Socket } from 'phoenix';
import { afterEach, describe, expect, test } from 'vitest';
import { WebSocket } from 'ws';
import type { ChatStore } from '../../../src/lib/server/store/port.js';
import { createSqliteStore } from '../../../src/lib/server/store/sqlite-store.js';
import { startOpsServer, type OpsServer } from './ops-server.js';

let ops: OpsServer | null = null;
const cleanups: Array<() => void> = [];
afterEach(async () => {
	await ops?.close();
	ops = null;
	for (const cleanup of cleanups.splice(0)) cleanup();
});

async function stillServes(): Promise<void> {
	expect((await fetch(ops!.url + '/healthz')).status).toBe(200);
	expect((await fetch(ops!.url + '/api/session')).status).toBe(401);
}

describe('a page handler that fails costs that request only', () => {
	test('a synchronous throw answers 500 internal and is logged', async () => {
		ops = await startOpsServer({}, {
			pages: () => {
				throw new TypeError('page bug');
			}
		});
		const res = await fetch(ops.url + '/rooms/lobby');
		expect(res.status).toBe(500);
		expect(await res.json()).toEqual({ reason: 'internal', message: 'server error' });
		expect(ops.logs().some((line) => line.msg === 'request failed' && (line.err as { message?: string })?.message === 'page bug')).toBe(true);
		await stillServes();
	});

	test('a rejected promise answers 500', async () => {
		ops = await startOpsServer({}, { pages: async () => Promise.reject(new Error('async page bug')) });
		expect((await fetch(ops.url + '/')).status).toBe(500);
		await stillServes();
	});

	test('a throw after the headers went out cuts that connection (the client sees a broken body)', async () => {
		ops = await startOpsServer({}, {
			pages: async (_req, res) => {
				res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '100' });
				res.write('partial');
				await new Promise((resolve) => setTimeout(resolve, 20));
				throw new Error('died mid-answer');
			}
		});
		const res = await fetch(ops.url + '/');
		expect(res.status).toBe(200);
		await expect(res.text()).rejects.toThrow();
		await stillServes();
	});

	test('a client that hangs up mid-answer costs nothing', async () => {
		ops = await startOpsServer({}, {
			pages: async (_req, res) => {
				res.writeHead(200, { 'content-type': 'text/plain' });
				for (let i = 0; i < 50 && !res.destroyed; i++) {
					res.write('x'.repeat(64 * 1024));
					await new Promise((resolve) => setTimeout(resolve, 5));
				}
				res.end();
			}
		});
		await new Promise<void>((resolve) => {
			const req = httpRequest(ops!.url + '/', (res) => {
				res.once('data', () => {
					req.destroy();
					resolve();
				});
			});
			req.end();
		});
		await stillServes();
	});
});

describe('static files', () => {
	function buildDir(): string {
		const dir = mkdtempSync(join(tmpdir(), 'outbox-static-'));
		cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
		mkdirSync(join(dir, '_app/immutable/entry'), { recursive: true });
		writeFileSync(join(dir, '_app/immutable/entry/start.abc.js'), 'export const a = 1;\n');
		writeFileSync(join(dir, '_app/immutable/entry/start.abc.js.br'), 'brotli bytes');
		writeFileSync(join(dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
		return dir;
	}

	test('are served with their type, precompressed variant, ETag, immutable caching and a CSP', async () => {
		const dir = buildDir();
		ops = await startOpsServer({}, { staticDir: dir, pages: (_req, res) => void res.end('page') });
		const js = await fetch(ops.url + '/_app/immutable/entry/start.abc.js', { headers: { 'accept-encoding': 'br, gzip' } });
		expect(js.status).toBe(200);
		expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
		expect(js.headers.get('content-encoding')).toBe('br');
		expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
		expect(js.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
		expect(js.headers.get('x-content-type-options')).toBe('nosniff');
		const plain = await fetch(ops.url + '/_app/immutable/entry/start.abc.js', { headers: { 'accept-encoding': 'identity' } });
		expect(await plain.text()).toBe('export const a = 1;\n');
		const etag = plain.headers.get('etag')!;
		expect((await fetch(ops.url + '/_app/immutable/entry/start.abc.js', { headers: { 'accept-encoding': 'identity', 'if-none-match': etag } })).status).toBe(304);
		const svg = await fetch(ops.url + '/favicon.svg');
		expect(svg.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
		expect(svg.headers.get('cache-control')).toBeNull();
		expect(await (await fetch(ops.url + '/rooms/lobby')).text()).toBe('page');
	});

	test('a file that vanished after start (a rebuild, a cleanup) answers 404; the process stays up', async () => {
		const dir = buildDir();
		ops = await startOpsServer({}, { staticDir: dir, pages: (_req, res) => void res.end('page') });
		unlinkSync(join(dir, '_app/immutable/entry/start.abc.js.br'));
		unlinkSync(join(dir, '_app/immutable/entry/start.abc.js'));
		const res = await fetch(ops.url + '/_app/immutable/entry/start.abc.js', { headers: { 'accept-encoding': 'br' } });
		expect(res.status).toBe(404);
		expect(ops.logs().some((line) => line.msg === 'static file is gone')).toBe(true);
		// Only the brotli copy gone: the plain file is served instead.
		const dir2 = buildDir();
		await ops.close();
		ops = await startOpsServer({}, { staticDir: dir2 });
		unlinkSync(join(dir2, '_app/immutable/entry/start.abc.js.br'));
		const fallback = await fetch(ops.url + '/_app/immutable/entry/start.abc.js', { headers: { 'accept-encoding': 'br' } });
		expect(fallback.status).toBe(200);
		expect(fallback.headers.get('content-encoding')).toBeNull();
		expect(await fallback.text()).toBe('export const a = 1;\n');
		await stillServes();
	});

	test('a file that cannot be read (a directory in its place) fails that answer alone', async () => {
		const dir = buildDir();
		ops = await startOpsServer({}, { staticDir: dir });
		unlinkSync(join(dir, 'favicon.svg'));
		mkdirSync(join(dir, 'favicon.svg'));
		const outcome = await fetch(ops.url + '/favicon.svg').then(
			async (res) => (res.status === 200 ? res.text().then(() => 'read', () => 'cut') : `status ${res.status}`),
			() => 'cut'
		);
		expect(outcome).not.toBe('read');
		await stillServes();
	});
});

describe('a store call that fails', () => {
	function flakyStore(): { store: ChatStore; failNext(): void } {
		const real = createSqliteStore({ file: ':memory:' });
		let failures = 0;
		const store: ChatStore = {
			...real,
			applyActions(...args) {
				if (failures > 0) {
					failures--;
					return Promise.reject(new Error('SQLITE_IOERR: disk I/O error'));
				}
				return real.applyActions(...args);
			}
		};
		return { store, failNext: () => void failures++ };
	}

	test('over HTTP: that call answers 500 internal (retryable); the next one goes through', async () => {
		const { store, failNext } = flakyStore();
		ops = await startOpsServer({}, { store });
		const { token } = await ops.signIn('flaky');
		const send = (clientId: string) =>
			fetch(ops!.url + '/api/sync/events', {
				method: 'POST',
				headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
				body: JSON.stringify({ room: 'lobby', actions: [{ client_id: clientId, type: 'send_message', payload: { client_id: clientId, body: 'hi' } }] })
			});
		failNext();
		const failed = await send('f-1');
		expect(failed.status).toBe(500);
		expect((await failed.json()).reason).toBe('internal');
		const retried = await send('f-1');
		expect(retried.status).toBe(200);
		expect((await retried.json()).results[0]).toMatchObject({ client_id: 'f-1', status: 'ok' });
	});

	test('over a socket: that channel crashes (the client rejoins), the socket and its other channels stay', async () => {
		const { store, failNext } = flakyStore();
		ops = await startOpsServer({}, { store });
		const { token } = await ops.signIn('flaky-socket');
		const socket = new Socket(ops.url.replace('http', 'ws') + '/socket', { transport: WebSocket as never, authToken: token, rejoinAfterMs: () => 50 });
		socket.connect();
		const lobby = socket.channel('room:lobby');
		const other = socket.channel('room:other');
		await Promise.all([lobby, other].map((c) => new Promise((resolve) => c.join().receive('ok', resolve))));
		const errored = new Promise((resolve) => lobby.onError(resolve));
		failNext();
		lobby.push('send_message', { client_id: 's-1', body: 'boom' });
		await errored;
		const reply = await new Promise<any>((resolve) => other.push('send_message', { client_id: 's-2', body: 'fine' }).receive('ok', resolve));
		expect(reply.message.body).toBe('fine');
		// The crashed channel rejoins by itself and takes the retry.
		await expect.poll(() => lobby.state, { timeout: 5000 }).toBe('joined');
		const again = await new Promise<any>((resolve) => lobby.push('send_message', { client_id: 's-1', body: 'boom' }).receive('ok', resolve));
		expect(again.message.body).toBe('boom');
		expect(ops.server.outbox.channels.connectionCount).toBe(1);
		socket.disconnect();
	});
});
