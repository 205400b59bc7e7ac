/**
 * The kit's phoenix transport against servers that are not Outbox's own:
 * a token carried as a connect param (Phoenix 1.7's `connect/3`), a server
 * that closes a session cleanly (code 1000, as Phoenix before 1.8.9 does on
 * `disconnect`) with an older phoenix.js that would then give up, and a join
 * that times out while the socket cannot open (phoenix.js hands a null event
 * to `onMessage` then).
 */
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { Socket as Socket1812 } from 'phoenix-1812';
import type { SocketConnectOption } from 'phoenix';
import { createPhoenixTransport, type PhoenixTransport } from '../../../src/lib/outbox/adapters/phoenix-transport.js';
import { startServer, until, type TestServer } from '../chat/harness.js';

const transports: PhoenixTransport[] = [];
const closers: Array<() => Promise<void> | void> = [];
afterEach(async () => {
	for (const transport of transports.splice(0)) transport.disconnect();
	for (const close of closers.splice(0)) await close();
});

/** A `ws` WebSocket class that records the URL and subprotocols of every connect. */
function recordingSocket() {
	const connects: Array<{ url: string; protocols: string[] }> = [];
	class Recording extends WebSocket {
		constructor(url: string, protocols?: string | string[]) {
			super(url, protocols);
			connects.push({ url, protocols: protocols === undefined ? [] : ([] as string[]).concat(protocols) });
		}
	}
	return { Recording: Recording as unknown as SocketConnectOption['transport'], connects };
}

async function outboxServer(): Promise<TestServer> {
	const server = await startServer();
	closers.push(() => server.close().catch(() => {}));
	return server;
}

describe('phoenix transport with other servers', () => {
	test("tokenAs 'param' sends the token as a connect param and no authToken subprotocol (Phoenix 1.7)", async () => {
		const server = await outboxServer();
		const session = await server.signIn(`param${Date.now().toString(36)}`);
		const { Recording, connects } = recordingSocket();
		const transport = createPhoenixTransport({
			endpoint: server.wsUrl,
			token: () => session.token,
			tokenAs: 'param',
			socketOptions: { transport: Recording, params: { app: 'checklist' }, reconnectAfterMs: () => 20 }
		});
		transports.push(transport);
		transport.connect();
		await until(() => transport.status().status === 'connected', 5000, 'connected with the param');
		const joined = await transport.join('room:param-check');
		expect(joined.status).toBe('ok');
		const url = new URL(connects[0]!.url);
		expect(url.searchParams.get('token')).toBe(session.token);
		expect(url.searchParams.get('app')).toBe('checklist');
		expect(connects[0]!.protocols.some((p) => p.startsWith('base64url.bearer.phx.'))).toBe(false);
		expect(() => createPhoenixTransport({ endpoint: '/socket', token: () => null, tokenAs: 'cookie' as never })).toThrow(/tokenAs/);
	});

	test('a clean close (1000) the kit did not ask for leads to a reconnect, also with phoenix.js 1.8.12', async () => {
		const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
		await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
		closers.push(() => new Promise<void>((resolve) => wss.close(() => resolve())));
		let connections = 0;
		wss.on('connection', (socket) => {
			connections++;
			// The first session is ended by the server as old Phoenix does: a clean 1000 close.
			if (connections === 1) setTimeout(() => socket.close(1000), 50);
		});
		const { port } = wss.address() as AddressInfo;
		const transport = createPhoenixTransport({
			endpoint: `ws://127.0.0.1:${port}/socket`,
			token: () => 'tok',
			Socket: Socket1812 as never,
			socketOptions: { transport: WebSocket as never, heartbeatIntervalMs: 60_000, reconnectAfterMs: () => 20 }
		});
		transports.push(transport);
		const seen: string[] = [];
		transport.subscribeStatus((s) => seen.push(s.status));
		transport.connect();
		await until(() => connections === 2 && transport.status().status === 'connected', 5000, 'reconnected after the clean close');
		expect(seen).toEqual(['connecting', 'connected', 'connecting', 'connected']);
		await new Promise((resolve) => setTimeout(resolve, 200));
		expect(connections).toBe(2); // once, not a storm
	});

	test('a join that times out while the socket cannot open throws nothing from a timer', async () => {
		const errors: unknown[] = [];
		const onError = (error: unknown) => errors.push(error);
		process.on('uncaughtException', onError);
		closers.push(() => void process.off('uncaughtException', onError));
		const transport = createPhoenixTransport({
			endpoint: 'ws://127.0.0.1:9/socket', // nothing listens on the discard port
			token: () => 'tok',
			socketOptions: { transport: WebSocket as never, timeout: 50, reconnectAfterMs: () => 30, rejoinAfterMs: () => 30 }
		});
		transports.push(transport);
		transport.connect();
		void transport.join('room:nowhere');
		await new Promise((resolve) => setTimeout(resolve, 400));
		expect(errors).toEqual([]);
		expect(transport.channelState('room:nowhere')).not.toBe('joined');
	});
});
