/**
 * The pure pieces, checked against the official client's own serializer
 * (reached through `socket.encode`/`socket.decode`, never copied): frame
 * codecs, the token bucket, route matching and option validation.
 */
import { describe, expect, it } from 'vitest';
import {
	decodeBinaryPush,
	decodeTextFrame,
	encodeBinaryBroadcast,
	encodeBinaryPush,
	encodeBinaryReply,
	encodeTextFrame
} from '../../src/lib/protocol/frames.js';
import { createChannelServer, type ChannelServerOptions } from '../../src/lib/server/channels/index.js';
import { matchRoute } from '../../src/lib/server/channels/options.js';
import { createBucket, takeToken } from '../../src/lib/server/channels/rate-limit.js';
import { CLIENTS, makeSocket } from './helpers/clients.js';

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: ArrayBuffer | Uint8Array) => new TextDecoder().decode(b);
const arrayBuffer = (u: Uint8Array) => u.slice().buffer as ArrayBuffer;

type Decoded = { join_ref: string | null; ref: string | null; topic: string; event: string; payload: unknown };
interface Codec {
	encode(msg: Decoded, cb: (out: ArrayBuffer | string) => void): void;
	decode(raw: ArrayBuffer | string, cb: (msg: Decoded) => void): void;
}

describe.each(CLIENTS)('binary frames against the $version serializer', (client) => {
	const codec = makeSocket(client, 'ws://127.0.0.1:1/socket') as unknown as Codec;
	const decode = (frame: Uint8Array) => {
		let out: Decoded | undefined;
		codec.decode(arrayBuffer(frame), (msg) => (out = msg));
		return out!;
	};

	it('decodes our kind-0 push as [JR,null,T,ev,ArrayBuffer]', () => {
		const msg = decode(encodeBinaryPush('3', 'room:a', 'bin_evt', bytes('DATA')));
		expect({ ...msg, payload: text(msg.payload as ArrayBuffer) }).toEqual({
			join_ref: '3',
			ref: null,
			topic: 'room:a',
			event: 'bin_evt',
			payload: 'DATA'
		});
	});

	it('decodes our kind-1 reply as phx_reply with the status in place of the event', () => {
		const msg = decode(encodeBinaryReply('3', '15', 'room:ü', 'ok', bytes('PONG')));
		const payload = msg.payload as { status: string; response: ArrayBuffer };
		expect([msg.join_ref, msg.ref, msg.topic, msg.event, payload.status]).toEqual(['3', '15', 'room:ü', 'phx_reply', 'ok']);
		expect(text(payload.response)).toBe('PONG');
	});

	it('decodes our kind-2 broadcast with null refs', () => {
		const msg = decode(encodeBinaryBroadcast('room:a', 'b', bytes('')));
		expect([msg.join_ref, msg.ref, msg.topic, msg.event, (msg.payload as ArrayBuffer).byteLength]).toEqual([
			null,
			null,
			'room:a',
			'b',
			0
		]);
	});

	it('reads the client binary push byte for byte (PROTOCOL.md §2.2 example)', () => {
		let sent: ArrayBuffer | undefined;
		codec.encode({ join_ref: '3', ref: '15', topic: 'room:a', event: 'binpush', payload: arrayBuffer(bytes('BIN')) }, (out) => {
			sent = out as ArrayBuffer;
		});
		const frame = new Uint8Array(sent!);
		expect([...frame.subarray(0, 5)]).toEqual([0, 1, 2, 6, 7]);
		const decoded = decodeBinaryPush(frame)!;
		expect({ ...decoded, payload: text(decoded.payload) }).toEqual({
			joinRef: '3',
			ref: '15',
			topic: 'room:a',
			event: 'binpush',
			payload: 'BIN'
		});
	});

	it('round-trips text frames with the client encoder', () => {
		let sent = '';
		codec.encode({ join_ref: null, ref: '7', topic: 'phoenix', event: 'heartbeat', payload: {} }, (out) => (sent = out as string));
		expect(decodeTextFrame(sent)).toEqual({ joinRef: null, ref: '7', topic: 'phoenix', event: 'heartbeat', payload: {} });
		expect(encodeTextFrame(null, '7', 'phoenix', 'heartbeat', {})).toBe(sent);
	});
});

describe('frame validation', () => {
	it.each([
		['not json', 'nope'],
		['not an array', '{"a":1}'],
		['four elements', '["1","2","t","e"]'],
		['numeric join_ref', '[1,"2","t","e",{}]'],
		['numeric topic', '["1","2",3,"e",{}]'],
		['null event', '["1","2","t",null,{}]'],
		['array payload', '["1","2","t","e",[]]'],
		['null payload', '["1","2","t","e",null]']
	])('rejects a text frame with %s', (_name, frame) => {
		expect(decodeTextFrame(frame)).toBeNull();
	});

	it.each([
		['wrong kind', [1, 0, 0, 0, 0]],
		['too short', [0, 1, 1]],
		['lengths past the end', [0, 5, 5, 5, 5, 65]],
		['broken UTF-8', [0, 1, 0, 1, 1, 0xff, 0x61, 0x62]]
	])('rejects a binary push with %s', (_name, frame) => {
		expect(decodeBinaryPush(new Uint8Array(frame))).toBeNull();
	});

	it('refuses to frame a field over 255 bytes', () => {
		expect(() => encodeBinaryPush('1', 'x'.repeat(256), 'e', new Uint8Array())).toThrow(RangeError);
	});
});

describe('token bucket', () => {
	it('allows a burst, then refills at perSecond', () => {
		const limit = { perSecond: 2, burst: 3 };
		const bucket = createBucket(limit, 0);
		expect([0, 0, 0, 0].map(() => takeToken(bucket, limit, 0))).toEqual([true, true, true, false]);
		expect(takeToken(bucket, limit, 250)).toBe(false); // half a token
		expect(takeToken(bucket, limit, 500)).toBe(true);
		expect(takeToken(bucket, limit, 10_000)).toBe(true);
		expect(bucket.tokens).toBe(2); // capped at burst, minus one
	});
});

describe('routing and options', () => {
	const route = (pattern: string) => ({ pattern, join: () => ({ status: 'ok' as const }), events: {} });

	it('matches exact topics and * prefixes in declaration order', () => {
		const routes = [route('room:lobby'), route('room:*'), route('*')];
		expect(matchRoute(routes, 'room:lobby')).toBe(routes[0]);
		expect(matchRoute(routes, 'room:x')).toBe(routes[1]);
		expect(matchRoute(routes, 'other')).toBe(routes[2]);
		expect(matchRoute([route('room:*')], 'rooms')).toBeNull();
	});

	const valid: ChannelServerOptions = { authenticate: () => ({}), routes: [route('room:*')] };
	it.each([
		['missing authenticate', { routes: [] }, /authenticate/],
		['routes not an array', { ...valid, routes: {} }, /routes/],
		['a pattern that is not a string', { ...valid, routes: [{ ...route('x'), pattern: 42 }] }, /pattern/],
		['a * in the middle', { ...valid, routes: [route('a*b')] }, /\*/],
		['a handler that is not a function', { ...valid, routes: [{ ...route('x'), events: { e: 1 } }] }, /events\["e"\]/],
		['negative maxChannelsPerSocket', { ...valid, maxChannelsPerSocket: -1 }, /maxChannelsPerSocket/],
		['zero idleTimeoutMs', { ...valid, idleTimeoutMs: 0 }, /idleTimeoutMs/],
		['fractional maxPayload', { ...valid, maxPayload: 1.5 }, /maxPayload/],
		['a rate limit without burst', { ...valid, rateLimit: { perSecond: 1 } }, /burst/],
		['a path without a slash', { ...valid, path: 'socket' }, /path/],
		['a logger without warn', { ...valid, logger: { debug() {}, info() {}, error() {} } }, /warn/]
	])('throws a TypeError for %s', (_name, options, message) => {
		expect(() => createChannelServer(options as unknown as ChannelServerOptions)).toThrow(TypeError);
		expect(() => createChannelServer(options as unknown as ChannelServerOptions)).toThrow(message);
	});

	it('accepts valid options', async () => {
		const server = createChannelServer(valid);
		expect(server.connectionCount).toBe(0);
		await server.close();
	});
});
