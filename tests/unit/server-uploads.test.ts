/**
 * The pure parts of uploads, table by table: names, types and signatures,
 * and the payload schemas that name uploads.
 */
import { describe, expect, it } from 'vitest';
import { LIMITS, messageSchema, parseAction, UPLOAD_TYPES } from '../../src/lib/protocol/index.js';
import { displayName, downloadName } from '../../src/lib/server/uploads/file-name.js';
import { contentCheck, uploadTypeOf } from '../../src/lib/server/uploads/file-types.js';
import { configFromEnv } from '../../src/lib/server/config.js';
import { UploadRefusal, type UploadStore } from '../../src/lib/server/uploads/port.js';
import { UploadService } from '../../src/lib/server/uploads/upload-service.js';

const refusal = (fn: () => unknown): { status: number; reason: string } | null => {
	try {
		fn();
		return null;
	} catch (error) {
		if (!(error instanceof UploadRefusal)) throw error;
		return { status: error.status, reason: error.reason };
	}
};

describe('displayName', () => {
	it.each([
		['photo.png', 'photo.png'],
		[encodeURIComponent('../../etc/passwd'), 'passwd'],
		[encodeURIComponent('C:\\Users\\me\\cv.pdf'), 'cv.pdf'],
		[encodeURIComponent('a/b/'), 'file.png'],
		[encodeURIComponent('...'), 'file.png'],
		[encodeURIComponent(' name.png. '), 'name.png'],
		[encodeURIComponent('in\u202Evalid.png'), 'invalid.png'],
		[encodeURIComponent('zero\u200Bwidth.png'), 'zerowidth.png'],
		[encodeURIComponent('tab\tand\r\nlines.png'), 'tabandlines.png'],
		[encodeURIComponent('a|b*c?.png'), 'a_b_c_.png'],
		[encodeURIComponent('e\u0301te\u0301.png'), 'été.png'], // NFC
		['', 'file.png']
	])('%j -> %j', (header, name) => {
		expect(displayName(header, 'image/png')).toBe(name);
	});

	it('falls back to a name from the type when the header is missing', () => {
		expect(UPLOAD_TYPES.map((type) => displayName(undefined, type))).toEqual([
			'file.png',
			'file.jpg',
			'file.gif',
			'file.webp',
			'file.pdf',
			'file.txt'
		]);
	});

	it(`keeps at most ${LIMITS.uploadNameMaxChars} characters, the extension kept`, () => {
		const name = displayName(encodeURIComponent('😀'.repeat(300) + '.jpeg'), 'image/jpeg');
		expect([...name]).toHaveLength(LIMITS.uploadNameMaxChars);
		expect(name.endsWith('😀.jpeg')).toBe(true);
	});

	it('refuses a header that is not URI-encoded with 400 invalid', () => {
		expect(refusal(() => displayName('%E0%A4%A', 'image/png'))).toEqual({ status: 400, reason: 'invalid' });
	});
});

describe('downloadName', () => {
	it.each([
		['a.png', 'image/png', 'a.png'],
		['A.PNG', 'image/png', 'A.PNG'],
		['b.jpeg', 'image/jpeg', 'b.jpeg'],
		['b.jpg', 'image/jpeg', 'b.jpg'],
		['run.exe', 'application/pdf', 'run.exe.pdf'],
		['notes', 'text/plain', 'notes.txt']
	] as const)('%s as %s -> %s', (name, type, expected) => {
		expect(downloadName(name, type)).toBe(expected);
	});
});

describe('uploadTypeOf', () => {
	it.each([
		['image/png', 'image/png'],
		['IMAGE/PNG', 'image/png'],
		['application/pdf; name=x', 'application/pdf'],
		['text/plain; charset=utf-8', 'text/plain'],
		['text/plain;charset="US-ASCII"', 'text/plain']
	])('%j is %s', (header, type) => {
		expect(uploadTypeOf(header)).toBe(type);
	});

	it.each([undefined, '', 'image/svg+xml', 'image/bmp', 'text/html', 'application/octet-stream', 'text/plain; charset=utf-16'])(
		'%j is refused with 415 invalid',
		(header) => {
			expect(refusal(() => uploadTypeOf(header))).toEqual({ status: 415, reason: 'invalid' });
		}
	);
});

describe('contentCheck', () => {
	/** Feed `bytes` in chunks of `size`; the refusal status, or 'ok'. */
	const verdict = (type: Parameters<typeof contentCheck>[0], bytes: number[] | Buffer, size = 1) => {
		const buffer = Buffer.from(bytes);
		const check = contentCheck(type);
		return (
			refusal(() => {
				for (let i = 0; i < buffer.length; i += size) check.update(buffer.subarray(i, i + size));
				check.finish();
			})?.status ?? 'ok'
		);
	};

	it.each([
		['image/png', [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2], 'ok'],
		['image/png', [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0b], 415],
		['image/png', [0x89, 0x50], 415],
		['image/jpeg', [0xff, 0xd8, 0xff, 0xdb], 'ok'],
		['image/jpeg', [0xff, 0xd8, 0x00], 415],
		['image/gif', [...Buffer.from('GIF87a')], 'ok'],
		['image/gif', [...Buffer.from('GIF89a')], 'ok'],
		['image/gif', [...Buffer.from('GIF88a')], 415],
		['image/gif', [...Buffer.from('GIF89b')], 415],
		['image/webp', [...Buffer.from('RIFF'), 1, 2, 3, 4, ...Buffer.from('WEBP')], 'ok'],
		['image/webp', [...Buffer.from('RIFF'), 1, 2, 3, 4, ...Buffer.from('AVI ')], 415],
		['application/pdf', [...Buffer.from('%PDF-1.4')], 'ok'],
		['application/pdf', [...Buffer.from(' %PDF-1.4')], 415],
		['text/plain', [...Buffer.from('plain ascii')], 'ok'],
		['text/plain', [...Buffer.from('\uFEFFwith a BOM, ünïcode ✓')], 'ok'],
		['text/plain', [0x61, 0x00, 0x62], 415],
		['text/plain', [0xc3, 0x28], 415], // a lead byte then not a continuation
		['text/plain', [0x61, 0xe2, 0x9c], 415], // ends inside a character
		['text/plain', [0xed, 0xa0, 0x80], 415] // a UTF-16 surrogate, not UTF-8
	] as const)('%s %j -> %s', (type, bytes, expected) => {
		expect(verdict(type, [...bytes])).toBe(expected);
		expect(verdict(type, [...bytes], 1000)).toBe(expected);
	});
});

describe('send_message payloads that name uploads', () => {
	const parse = (payload: object) => {
		const parsed = parseAction('send_message', { client_id: 'c1', ...payload });
		return parsed.ok ? 'ok' : parsed.message;
	};

	it.each([
		[{ body: 'text only' }, 'ok'],
		[{ body: 'text', attachments: ['abc'] }, 'ok'],
		[{ body: '', attachments: ['abc'] }, 'ok'],
		[{ body: '   ', attachments: ['abc'] }, 'ok'],
		[{ body: '', attachments: [] }, 'body: body is empty'],
		[{ body: '' }, 'body: body is empty'],
		[{ body: 'x', attachments: ['a', 'b', 'c', 'd'] }, 'ok'],
		[{ body: 'x', attachments: ['a', 'b', 'c', 'd', 'e'] }, 'attachments: a message carries at most 4 attachments'],
		[{ body: 'x', attachments: ['a', 'a'] }, 'attachments: an upload is named twice'],
		[{ body: 'x', attachments: ['a/b'] }, 'attachments.0: upload id may use only A-Z a-z 0-9 _ -'],
		[{ body: 'x', attachments: [''] }, expect.stringMatching(/^attachments\.0:/)],
		[{ body: 'x'.repeat(LIMITS.bodyMaxChars + 1), attachments: ['a'] }, `body: body is longer than ${LIMITS.bodyMaxChars} characters`]
	])('%j -> %s', (payload, expected) => {
		expect(parse(payload)).toEqual(expected);
	});

	it('lets a message with or without an attachments list through the client schema, and checks a list that is there', () => {
		const base = {
			id: '1',
			client_id: 'c1',
			room: 'lobby',
			author: { id: 'u1', name: 'Ada' },
			body: '',
			seq: 1,
			version: 1,
			deleted: false,
			inserted_at: '2026-01-01T00:00:00.000Z',
			updated_at: '2026-01-01T00:00:00.000Z'
		};
		expect(messageSchema.safeParse(base).success).toBe(true);
		const withFile = { ...base, attachments: [{ id: 'up1', name: 'a.png', type: 'image/png', size: 10 }] };
		expect(messageSchema.parse(withFile)).toEqual(withFile);
		expect(messageSchema.safeParse({ ...base, attachments: [{ id: 'up1' }] }).success).toBe(false);
	});
});

describe('upload settings', () => {
	const store = {} as UploadStore; // never called: only the constructor runs
	const logger = { info() {}, error() {} };

	it('checks UploadService options at construction, naming the option', () => {
		expect(() => new UploadService({ store, stagingDir: '', logger })).toThrow(/stagingDir/);
		expect(() => new UploadService({ stagingDir: '/tmp/x', logger } as never)).toThrow(/store/);
		for (const option of ['maxBytes', 'quotaBytes', 'quotaWindowMs', 'orphanAfterMs', 'idleTimeoutMs'] as const) {
			expect(() => new UploadService({ store, stagingDir: '/tmp/x', logger, [option]: 0 })).toThrow(new RegExp(`${option} must be an integer`));
		}
		expect(() => new UploadService({ store, stagingDir: '/tmp/x', logger, sweepIntervalMs: -1 })).toThrow(/sweepIntervalMs/);
		expect(new UploadService({ store, stagingDir: '/tmp/x', logger }).limits).toEqual({
			maxBytes: 10 * 1024 * 1024,
			quotaBytes: 100 * 1024 * 1024,
			quotaWindowMs: 24 * 3600 * 1000,
			orphanAfterMs: 24 * 3600 * 1000,
			idleTimeoutMs: 30_000
		});
	});

	it('reads UPLOAD_SWEEP_INTERVAL_S (default 3600, 0 allowed) and refuses nonsense naming the variable', () => {
		expect(configFromEnv({}).uploadSweepIntervalS).toBe(3600);
		expect(configFromEnv({ UPLOAD_SWEEP_INTERVAL_S: '0' }).uploadSweepIntervalS).toBe(0);
		expect(() => configFromEnv({ UPLOAD_SWEEP_INTERVAL_S: 'hourly' })).toThrow(/UPLOAD_SWEEP_INTERVAL_S/);
		expect(() => configFromEnv({ UPLOAD_SWEEP_INTERVAL_S: '-5' })).toThrow(/UPLOAD_SWEEP_INTERVAL_S/);
	});
});
