/**
 * The real Outbox server on port 0 with a temp data dir, and the unmodified
 * official `phoenix` client connected to it over `ws` — the way a stranger's
 * Node client would talk to us.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { Socket, type Channel } from 'phoenix';
import { WebSocket } from 'ws';
import { createHttpServer, createOutboxServer, type OutboxServerOptions } from '../../../src/lib/server/app.js';
import { configFromEnv, type ServerConfig } from '../../../src/lib/server/config.js';

export interface Reply {
	status: 'ok' | 'error' | 'timeout';
	response: any;
}

export interface TestServer {
	url: string;
	wsUrl: string;
	dataDir: string;
	outbox: Awaited<ReturnType<typeof createOutboxServer>>;
	/** The node:http server (to play a proxy in front of it, say). */
	http: import('node:http').Server;
	signIn(name: string, password?: string): Promise<{ token: string; user: { id: string; name: string } }>;
	connect(token: string, options?: Record<string, unknown>): Socket;
	api(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: any }>;
	close(): Promise<void>;
}

export async function startServer(
	overrides: Partial<ServerConfig> = {},
	options: OutboxServerOptions = {}
): Promise<TestServer> {
	const ownsDir = !overrides.dataDir;
	const dataDir = overrides.dataDir ?? mkdtempSync(joinPath(tmpdir(), 'outbox-test-'));
	const config: ServerConfig = {
		...configFromEnv({}),
		port: 0,
		host: '127.0.0.1',
		logLevel: 'silent',
		...overrides,
		dataDir
	};
	const outbox = await createOutboxServer(config, options);
	const http = createHttpServer(outbox);
	await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
	const { port } = http.address() as AddressInfo;
	const url = `http://127.0.0.1:${port}`;
	const sockets: Socket[] = [];

	async function api(method: string, path: string, body?: unknown, token?: string) {
		const headers: Record<string, string> = {};
		if (body !== undefined) headers['content-type'] = 'application/json';
		if (token) headers.authorization = `Bearer ${token}`;
		const res = await fetch(url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
		const text = await res.text();
		return { status: res.status, body: text ? JSON.parse(text) : null };
	}

	return {
		url,
		wsUrl: `ws://127.0.0.1:${port}/socket`,
		dataDir,
		outbox,
		http,
		api,
		async signIn(name, password = `pw-${name}`) {
			const res = await api('POST', '/api/session', { name, password });
			if (res.status !== 200) throw new Error(`sign-in failed: ${res.status} ${JSON.stringify(res.body)}`);
			return res.body;
		},
		connect(token, opts = {}) {
			const socket = new Socket(`ws://127.0.0.1:${port}/socket`, {
				transport: WebSocket as any,
				authToken: token,
				heartbeatIntervalMs: 1000,
				reconnectAfterMs: () => 20,
				rejoinAfterMs: () => 50,
				timeout: 3000,
				...opts
			});
			socket.connect();
			sockets.push(socket);
			return socket;
		},
		async close() {
			for (const socket of sockets) socket.disconnect();
			http.closeAllConnections();
			await new Promise((resolve) => http.close(resolve));
			await outbox.close();
			if (ownsDir) rmSync(dataDir, { recursive: true, force: true });
		}
	};
}

/** `channel.join()` as a promise of the reply. */
export function join(channel: Channel): Promise<Reply> {
	return new Promise((resolve) => {
		channel
			.join()
			.receive('ok', (response) => resolve({ status: 'ok', response }))
			.receive('error', (response) => resolve({ status: 'error', response }))
			.receive('timeout', () => resolve({ status: 'timeout', response: null }));
	});
}

/** Join a room and return the channel; fails the test when the join is refused. */
export async function joinRoom(socket: Socket, slug: string, params = {}): Promise<Channel> {
	const channel = socket.channel(`room:${slug}`, params);
	const reply = await join(channel);
	if (reply.status !== 'ok') throw new Error(`join room:${slug} -> ${reply.status} ${JSON.stringify(reply.response)}`);
	return channel;
}

/** `channel.push()` as a promise of the reply. */
export function push(channel: Channel, event: string, payload: object, timeout?: number): Promise<Reply> {
	return new Promise((resolve) => {
		channel
			.push(event, payload, timeout)
			.receive('ok', (response) => resolve({ status: 'ok', response }))
			.receive('error', (response) => resolve({ status: 'error', response }))
			.receive('timeout', () => resolve({ status: 'timeout', response: null }));
	});
}

/** Collect every payload of one event on a channel. */
export function collect(channel: Channel, event: string): any[] {
	const seen: any[] = [];
	channel.on(event, (payload) => void seen.push(payload));
	return seen;
}

/** Poll until `check` returns truthy, or fail after `ms`. */
export async function until<T>(check: () => T | Promise<T>, ms = 5000, what = 'condition'): Promise<T> {
	const deadline = Date.now() + ms;
	for (;;) {
		const value = await check();
		if (value) return value;
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await new Promise((r) => setTimeout(r, 10));
	}
}

/** Run `sync` and gather every `sync:complete` page until `complete`. */
export async function syncAll(channel: Channel, since: string | null = null) {
	const pages: any[] = [];
	let cursor = since;
	for (;;) {
		const page = new Promise<any>((resolve) => {
			const ref = channel.on('sync:complete', (payload) => {
				channel.off('sync:complete', ref);
				resolve(payload);
			});
		});
		const reply = await push(channel, 'sync', { since: cursor });
		if (reply.status !== 'ok') throw new Error(`sync -> ${JSON.stringify(reply)}`);
		const payload = await page;
		pages.push(payload);
		cursor = payload.cursor;
		if (payload.complete) return { pages, cursor, messages: pages.flatMap((p) => p.messages) };
	}
}

let counter = 0;
/** A fresh client_id for one action. */
export const cid = (prefix = 'c') => `${prefix}${Date.now().toString(36)}${(counter++).toString(36)}`;
