/**
 * The real channel server on port 0 with the test routes, recording every
 * frame in and out (through the `trace` hook), every open and close, every
 * authenticate call, and the raw TCP socket of each upgrade (so a test can
 * cut a connection the way a network would).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket as NetSocket } from 'node:net';
import {
	createChannelServer,
	type ChannelServer,
	type ChannelServerOptions,
	type TraceEvent
} from '../../../src/lib/server/channels/index.js';
import { createTestRoutes, type Assigns, type RouterEvent } from './test-router.js';
import { waitFor } from './wait.js';

/** A frame as the server saw or sent it: JSON frames parsed, binary as bytes. */
export interface Recorded {
	dir: 'in' | 'out';
	connectionId: string;
	frame: unknown[] | Uint8Array | string;
}

export interface AuthCall {
	token: string | null;
	params: Record<string, string>;
	url: string;
	protocols: string | undefined;
}

export interface TestServer {
	/** `ws://127.0.0.1:<port>/socket`, the endpoint the official client takes. */
	endpoint: string;
	/** `ws://127.0.0.1:<port>/socket/websocket?vsn=2.0.0`, for raw clients. */
	wsUrl: string;
	port: number;
	http: Server;
	channels: ChannelServer;
	frames: Recorded[];
	opens: string[];
	closes: Array<{ connectionId: string; code: number; reason: string }>;
	auths: AuthCall[];
	log: RouterEvent[];
	upgrades: NetSocket[];
	/** Resolve with the first recorded frame (at or after `from`) that matches. */
	waitFrame(dir: 'in' | 'out', match: (frame: unknown[]) => boolean, what: string, from?: number): Promise<unknown[]>;
	/** Every recorded JSON frame in `dir` that matches. */
	textFrames(dir: 'in' | 'out', match?: (frame: unknown[]) => boolean): unknown[][];
	close(): Promise<void>;
}

/** Tokens: `bad` is refused, `throw` makes authenticate throw, anything else is a user. */
export async function startTestServer(overrides: Partial<ChannelServerOptions<Assigns>> = {}): Promise<TestServer> {
	const frames: Recorded[] = [];
	const opens: string[] = [];
	const closes: TestServer['closes'] = [];
	const auths: AuthCall[] = [];
	const log: RouterEvent[] = [];
	const upgrades: NetSocket[] = [];

	const trace = (event: TraceEvent) => {
		if (event.type === 'open') opens.push(event.connectionId);
		else if (event.type === 'close') closes.push({ connectionId: event.connectionId, code: event.code, reason: event.reason });
		else frames.push({ dir: event.type, connectionId: event.connectionId, frame: parse(event.data) });
	};
	const channels = createChannelServer<Assigns>({
		authenticate: ({ token, params, request }) => {
			auths.push({ token, params, url: request.url ?? '', protocols: request.headers['sec-websocket-protocol'] });
			if (token === 'throw') throw new Error('auth backend down');
			if (token === 'bad') return null;
			if (token) return { user: token };
			return params.user ? { user: params.user } : null;
		},
		socketKey: (assigns) => `user:${assigns.user}`,
		routes: createTestRoutes(log),
		trace,
		...overrides
	});
	// LongPoll is plain HTTP; anything else is not ours.
	const http = createServer((req, res) => {
		if (!channels.handleLongPoll(req, res)) res.writeHead(404).end();
	});
	http.on('upgrade', (_req, socket) => upgrades.push(socket as NetSocket));
	channels.attach(http);
	await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
	const port = (http.address() as AddressInfo).port;

	const textFrames = (dir: 'in' | 'out', match: (frame: unknown[]) => boolean = () => true) =>
		frames.filter((r) => r.dir === dir && Array.isArray(r.frame) && match(r.frame)).map((r) => r.frame as unknown[]);

	return {
		endpoint: `ws://127.0.0.1:${port}/socket`,
		wsUrl: `ws://127.0.0.1:${port}/socket/websocket?vsn=2.0.0`,
		port,
		http,
		channels,
		frames,
		opens,
		closes,
		auths,
		log,
		upgrades,
		textFrames,
		waitFrame: (dir, match, what, from = 0) =>
			waitFor(() => {
				for (let i = from; i < frames.length; i++) {
					const r = frames[i]!;
					if (r.dir === dir && Array.isArray(r.frame) && match(r.frame)) return r.frame;
				}
				return undefined;
			}, what),
		async close() {
			await channels.close();
			for (const socket of upgrades) socket.destroy();
			await new Promise<void>((resolve) => http.close(() => resolve()));
		}
	};
}

function parse(data: string | Uint8Array): Recorded['frame'] {
	if (typeof data !== 'string') return data;
	try {
		const value: unknown = JSON.parse(data);
		return Array.isArray(value) ? value : data;
	} catch {
		return data;
	}
}

/** Predicate for `[_, _, topic, event, _]`. */
export const is =
	(topic: string, event: string) =>
	(frame: unknown[]): boolean =>
		frame[2] === topic && frame[3] === event;
