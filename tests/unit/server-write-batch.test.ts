import { describe, expect, it } from 'vitest';
import * as ws from 'ws';
import { frameOf, rawSocketOf, WriteBatch, type BatchedConnection } from '../../src/lib/server/channels/write-batch.js';

/** Decode frames with ws's own parser (as a client would: server frames are unmasked). */
function decode(bytes: Buffer): Array<{ data: Buffer; isBinary: boolean }> {
	const messages: Array<{ data: Buffer; isBinary: boolean }> = [];
	// ws exports its frame parser (untyped): the reference decoder for what we frame by hand.
	const Receiver = (ws as unknown as { Receiver: new (options: object) => import('node:stream').Writable }).Receiver;
	const receiver = new Receiver({ isServer: false, maxPayload: 0, skipUTF8Validation: false });
	receiver.on('message', (data: Buffer, isBinary: boolean) => messages.push({ data, isBinary }));
	receiver.on('error', (err: Error) => {
		throw err;
	});
	receiver.write(bytes);
	return messages;
}

describe('frameOf', () => {
	it.each([0, 1, 125, 126, 65_535, 65_536, 200_000])('frames a %i-byte text payload that ws decodes back', (length) => {
		const text = 'é'.repeat(Math.floor(length / 2)) + 'x'.repeat(length % 2);
		const [message, ...rest] = decode(frameOf(text));
		expect(rest).toEqual([]);
		expect(message!.isBinary).toBe(false);
		expect(message!.data.toString('utf8')).toBe(text);
	});

	it('frames binary payloads with opcode 2', () => {
		const bytes = Uint8Array.from([0, 1, 2, 255]);
		expect(decode(frameOf(bytes, true))).toEqual([{ data: Buffer.from(bytes), isBinary: true }]);
	});
});

/** A connection whose socket records what was written to it. */
function fakeConnection(readyState = 1) {
	const writes: Buffer[] = [];
	const socket = { destroyed: false, write: (b: Buffer) => void writes.push(Buffer.from(b)), cork() {}, uncork() {} };
	const conn: BatchedConnection = { pending: null, ws: Object.assign({ readyState, _socket: socket, _sender: {}, extensions: '' }) };
	return { conn, writes };
}

describe('WriteBatch', () => {
	it('writes every frame a connection got in one turn as one write, in order, at the turn end', async () => {
		const batch = new WriteBatch();
		const a = fakeConnection();
		const b = fakeConnection();
		batch.queue(a.conn, frameOf('one'));
		batch.queue(b.conn, frameOf('only'));
		batch.queue(a.conn, frameOf('two'));
		batch.queue(a.conn, frameOf('three'));
		expect(a.writes).toEqual([]);
		await new Promise((r) => setImmediate(r));
		expect(a.writes).toHaveLength(1);
		expect(decode(a.writes[0]!).map((m) => m.data.toString())).toEqual(['one', 'two', 'three']);
		expect(decode(Buffer.concat(b.writes)).map((m) => m.data.toString())).toEqual(['only']);
		expect(a.conn.pending).toBeNull();
	});

	it('flushConnection writes at once (before a close) and the turn end does not write it again', async () => {
		const batch = new WriteBatch();
		const a = fakeConnection();
		batch.queue(a.conn, frameOf('before close'));
		batch.flushConnection(a.conn);
		expect(a.writes).toHaveLength(1);
		await new Promise((r) => setImmediate(r));
		expect(a.writes).toHaveLength(1);
	});

	it('drops what was queued for a socket that is no longer open', async () => {
		const batch = new WriteBatch();
		const closing = fakeConnection(2);
		batch.queue(closing.conn, frameOf('late'));
		await new Promise((r) => setImmediate(r));
		expect(closing.writes).toEqual([]);
	});

	it('takes the socket of a ws WebSocket only when no extension was negotiated', () => {
		const socket = { write() {} };
		expect(rawSocketOf({ _socket: socket, _sender: {}, extensions: '' })).toBe(socket);
		expect(rawSocketOf({ _socket: socket, _sender: {}, extensions: 'permessage-deflate' })).toBeNull();
		expect(rawSocketOf({ readyState: 1 })).toBeNull();
	});
});
