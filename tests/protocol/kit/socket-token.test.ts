/**
 * The kit's short-lived socket tokens against the real server: the phoenix
 * transport fetches a token before its first connect, fetches a fresh one
 * when a reconnect comes after the old one expired (a refused attempt), and
 * reports `unauthorized` once the session behind the cookie is revoked.
 */
import { afterEach, describe, expect, test } from 'vitest';
import { WebSocket } from 'ws';
import type { SocketConnectOption } from 'phoenix';
import { createPhoenixTransport, type PhoenixTransport } from '../../../src/lib/outbox/adapters/phoenix-transport.js';
import { createSocketTokenSource } from '../../../src/lib/outbox/adapters/socket-token.js';
import { startServer, until, type TestServer } from '../chat/harness.js';

const servers: TestServer[] = [];
const transports: PhoenixTransport[] = [];
afterEach(async () => {
	for (const transport of transports.splice(0)) transport.disconnect();
	for (const server of servers.splice(0)) await server.close().catch(() => {});
});

/** A server with socket tokens of `ttlS`, a signed-in cookie, and a transport on a token source that sends it. */
async function setup(ttlS: number) {
	const server = await startServer({ socketTokenTtlSeconds: ttlS });
	servers.push(server);
	const session = await server.signIn(`tok${servers.length}${Date.now().toString(36)}`);
	const fetched: string[] = [];
	// What a browser adds to a same-origin fetch: the cookie and its Origin.
	const cookieFetch = (async (path: string, init: RequestInit) => {
		const res = await fetch(server.url + path, { ...init, headers: { ...(init.headers as Record<string, string>), cookie: `outbox_token=${session.token}`, origin: server.url } });
		const clone = res.clone();
		if (res.ok) fetched.push(((await clone.json()) as { token: string }).token);
		return res;
	}) as unknown as typeof fetch;
	const source = createSocketTokenSource({ url: '/api/socket-token', fetch: cookieFetch, expectedUser: () => session.user.id });
	const opened: string[] = [];
	class Recording extends WebSocket {
		constructor(url: string, protocols?: string | string[]) {
			super(url, protocols);
			const bearer = [protocols ?? []].flat().find((p) => p.startsWith('base64url.bearer.phx.'));
			opened.push(bearer ? Buffer.from(bearer.slice('base64url.bearer.phx.'.length), 'base64url').toString() : '');
		}
	}
	const statuses: string[] = [];
	const transport = createPhoenixTransport({
		endpoint: server.wsUrl,
		token: () => source.current(),
		refreshToken: () => source.refresh(),
		socketOptions: {
			transport: Recording as unknown as SocketConnectOption['transport'],
			heartbeatIntervalMs: 1000,
			reconnectAfterMs: () => 50,
			timeout: 3000
		}
	});
	transport.subscribeStatus((s) => void statuses.push('reason' in s && s.reason ? `${s.status}:${s.reason}` : s.status));
	transports.push(transport);
	return { server, session, source, transport, fetched, opened, statuses };
}

describe('phoenix transport with socket tokens', () => {
	test('fetches a token before the first connect, and the socket opens with it', async () => {
		const t = await setup(300);
		t.transport.connect();
		await until(() => t.transport.status().status === 'connected', 10_000, 'connected');
		expect(t.fetched).toHaveLength(1);
		expect(t.opened).toEqual([t.fetched[0]]);
		expect(t.opened[0]).toMatch(/^s1\./);
	});

	test('a reconnect after the token expired fetches a fresh one (the expired one is never offered)', async () => {
		const t = await setup(1);
		t.transport.connect();
		await until(() => t.transport.status().status === 'connected', 10_000, 'connected');
		// The open socket outlives its token; the source keeps refreshing. Stop that: the token must go stale.
		t.source.clear();
		await new Promise((resolve) => setTimeout(resolve, 1200));
		const before = t.fetched.length;
		t.transport.reconnectNow();
		await until(() => t.transport.status().status === 'connected' && t.opened.length >= 2, 10_000, 'reconnected');
		expect(t.fetched.length).toBeGreaterThan(before);
		expect(t.opened.at(-1)).toBe(t.fetched.at(-1));
		expect(new Set(t.opened).size).toBe(t.opened.length);
	});

	test('after sign-out (the session revoked) the refresh is refused: unauthorized, no more attempts', async () => {
		const t = await setup(300);
		t.transport.connect();
		await until(() => t.transport.status().status === 'connected', 10_000, 'connected');
		const out = await t.server.api('DELETE', '/api/session', undefined, t.session.token);
		expect(out.status).toBe(200);
		await until(() => t.transport.status().status === 'disconnected' && t.statuses.includes('disconnected:unauthorized'), 10_000, 'unauthorized');
		const attempts = t.opened.length;
		await new Promise((resolve) => setTimeout(resolve, 500));
		expect(t.opened.length).toBe(attempts);
	});
});
