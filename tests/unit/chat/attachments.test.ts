/**
 * The chat's files, pure: what a message may carry, the wire form of a send
 * with uploads, each file's status in a view row; and the kit's pure file
 * helpers (derived upload ids, failures, the HTTP answer of an upload).
 */
import { describe, expect, it } from 'vitest';
import { attachmentsOf, checkFiles, localAttachments, sendMessageWire } from '../../../src/lib/chat/attachments.js';
import type { ViewMessage } from '../../../src/lib/chat/view.js';
import { createQueueItem, itemFiles, uploadFailure, uploadIdOf, withUpload, type QueueItem } from '../../../src/lib/outbox/index.js';
import { uploadResultOf } from '../../../src/lib/outbox/adapters/index.js';
import { LIMITS } from '../../../src/lib/protocol/events.js';
import { sendMessageSchema } from '../../../src/lib/protocol/schemas.js';

const file = (name: string, type: string, size: number) => new File([new Uint8Array(size)], name, { type });

describe('checkFiles', () => {
	it('takes up to 4 files of the accepted types up to 10 MiB', () => {
		expect(checkFiles([])).toBeNull();
		expect(checkFiles([file('a.png', 'image/png', 10), file('b.pdf', 'application/pdf', LIMITS.uploadMaxBytes)])).toBeNull();
	});
	it.each([
		[[1, 2, 3, 4, 5].map((i) => file(`${i}.png`, 'image/png', 1)), 'at most 4 files'],
		[[file('big.pdf', 'application/pdf', LIMITS.uploadMaxBytes + 1)], '"big.pdf" is 10.0 MB: a file may be at most 10.0 MB'],
		[[file('run.exe', 'application/x-msdownload', 10)], '"run.exe" is not a type that can be sent'],
		[[file('empty.txt', 'text/plain', 0)], '"empty.txt" is empty']
	])('refuses %#', (files, message) => {
		expect(checkFiles(files)).toContain(message);
	});
});

describe('the wire form of a send with files', () => {
	it('placeholders pass the server schema (even with an empty body); the uploads replace them on the wire', () => {
		const payload = { body: '', attachments: localAttachments(2) };
		expect(sendMessageSchema.safeParse({ ...payload, client_id: 'c1' }).success).toBe(true);
		expect(sendMessageSchema.safeParse({ body: '', client_id: 'c1' }).success).toBe(false);
		expect(sendMessageWire(payload, [{ id: 'u1', name: 'a', type: 'image/png', size: 1 }, { id: 'u2', name: 'b', type: 'image/png', size: 1 }])).toEqual({
			body: '',
			attachments: ['u1', 'u2']
		});
		expect(sendMessageWire({ body: 'hi' }, [])).toEqual({ body: 'hi' });
	});
});

describe('attachmentsOf', () => {
	const user = { id: 'u1', name: 'Ann' };
	const queued = (extra: Partial<QueueItem> = {}): QueueItem => ({
		...createQueueItem({ id: 'i1', type: 'send_message', topic: 'room:a', payload: { body: '', attachments: localAttachments(2) }, createdAt: 1, files: itemFiles('i1', [file('a.png', 'image/png', 4), file('b.pdf', 'application/pdf', 8)]) }),
		...extra
	});
	const row = (item: QueueItem, status: ViewMessage['status'] = 'pending', message: ViewMessage['message'] = null): ViewMessage => ({
		key: 'u1/i1', clientId: 'i1', id: message?.id ?? null, seq: message?.seq ?? null, author: user, body: '', deleted: false, status, error: null, message, item
	});

	it('pending, uploading with progress, sent once uploaded; failed when the send failed', () => {
		let item = queued();
		expect(attachmentsOf(row(item)).map((a) => [a.name, a.status, a.image, a.url, a.blob instanceof Blob])).toEqual([
			['a.png', 'pending', true, null, true],
			['b.pdf', 'pending', false, null, true]
		]);
		const progress = { i1: { 1: { loaded: 3, total: 8 } } };
		item = withUpload(item, 0, { id: 'srv1', name: 'a.png', type: 'image/png', size: 4 });
		expect(attachmentsOf(row(item), progress).map((a) => [a.status, a.progress, a.url])).toEqual([
			['sent', null, '/api/uploads/srv1'],
			['uploading', { loaded: 3, total: 8 }, null]
		]);
		expect(attachmentsOf(row({ ...item, status: 'failed' }, 'failed')).map((a) => a.status)).toEqual(['sent', 'failed']);
	});

	it('a confirmed message shows the server copies', () => {
		const message = {
			id: 'm1', client_id: 'i1', room: 'a', author: user, body: '', seq: 1, version: 1, deleted: false, inserted_at: '', updated_at: '',
			attachments: [{ id: 'srv1', name: 'a.png', type: 'image/png', size: 4 }]
		};
		expect(attachmentsOf(row(queued(), 'sent', message)).map((a) => [a.status, a.url])).toEqual([['sent', '/api/uploads/srv1']]);
	});
});

describe('the kit\'s file helpers', () => {
	it('derives upload ids from the item id and the file index', () => {
		expect(uploadIdOf('01abc', 2)).toBe('01abc.2');
		expect(itemFiles('x', [new Blob(['a'])]).map((f) => [f.uploadId, f.name, f.type])).toEqual([['x.0', 'file-1', 'application/octet-stream']]);
	});
	it('maps an upload outcome to its item\'s failure', () => {
		const f = { name: 'big.png', size: 1 };
		expect(uploadFailure(f, { kind: 'network' })).toEqual({ kind: 'timeout' });
		expect(uploadFailure(f, { kind: 'refused', status: 413, reason: 'invalid' })).toMatchObject({ kind: 'error', reason: 'invalid', message: '"big.png" is too large to upload' });
		expect(uploadFailure(f, { kind: 'refused', status: 429, reason: 'rate_limited', message: 'quota' })).toMatchObject({ reason: 'rate_limited', message: 'quota' });
	});
	it('reads the HTTP answer of an upload', () => {
		expect(uploadResultOf(201, { upload: { id: 'u', name: 'n', type: 't', size: 1, sha256: 'x' } })).toEqual({ kind: 'ok', upload: { id: 'u', name: 'n', type: 't', size: 1 } });
		expect(uploadResultOf(415, { reason: 'invalid', message: 'not a png' })).toEqual({ kind: 'refused', status: 415, reason: 'invalid', message: 'not a png' });
		expect(uploadResultOf(429, null)).toEqual({ kind: 'refused', status: 429, reason: 'rate_limited' });
		expect(uploadResultOf(503, null)).toMatchObject({ reason: 'internal' });
		expect(uploadResultOf(201, { nope: 1 })).toMatchObject({ kind: 'refused', reason: 'internal' });
		expect(uploadResultOf(0, null)).toMatchObject({ kind: 'network' });
	});
});
