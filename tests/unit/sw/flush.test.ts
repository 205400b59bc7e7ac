/**
 * The service worker's background flush (`outbox/sw` flushQueue, with the
 * chat's options from src/lib/chat/sw.ts) on fake ports: session, lock, the
 * kit's memory storage and the HTTP API. The real IndexedDB and Web Locks
 * are exercised in tests/e2e/service-worker.spec.ts.
 */
import { describe, expect, it } from 'vitest';
import { FlushIncompleteError, flushQueue, type FlushDeps, type FlushOptions, type LockPort } from '../../../src/lib/outbox/sw/index.js';
import { chatFlushOptions, mergeIntoSnapshot } from '../../../src/lib/chat/sw.js';
import { DEFAULT_SNAPSHOT_LIMIT, snapshotKey } from '../../../src/lib/chat/room-state.js';
import { createQueueItem, itemFiles, type QueueItem } from '../../../src/lib/outbox/index.js';
import { MemoryStorage } from '../../../src/lib/outbox/testing/index.js';
import type { StorageWrite } from '../../../src/lib/outbox/ports.js';
import type { Message } from '../../../src/lib/protocol/message';

const USER = 'u1';

function item(id: string, topic: string, body: string, extra: Partial<QueueItem> = {}): QueueItem {
	return { ...createQueueItem({ id, type: 'send_message', topic, payload: { body }, createdAt: 1000 + Number(id.replace(/\D/g, '') || 0) }), ...extra };
}

/** Memory storage that records each write (one per batch is the contract). */
class RecordingStorage extends MemoryStorage {
	writes: Array<{ puts: string[]; deletes: string[]; meta: string[] }> = [];
	override async write(namespace: string, change: StorageWrite): Promise<void> {
		this.writes.push({ puts: (change.put ?? []).map((p) => p.id), deletes: [...(change.remove ?? [])], meta: Object.keys(change.meta ?? {}) });
		return super.write(namespace, change);
	}
	/** The item as stored now. */
	stored(id: string): QueueItem | undefined {
		return this.snapshot(USER).find((i) => i.id === id);
	}
}

type Verdict = 'ok' | { reason: string; message?: string };
type Handler = (room: string, actions: Array<{ client_id: string; type: string; payload: Record<string, unknown> }>) => Response | Promise<Response> | 'network';

function json(status: number, body: unknown): Response {
	return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

/** The message a server would create for a send (seq counted per room). */
function serverMessage(room: string, client_id: string, body: string, seq: number, version = 1): Message {
	const at = new Date(1_700_000_000_000 + seq * 1000).toISOString();
	return { id: `${room}-${seq}`, client_id, room, author: { id: USER, name: 'one' }, body, seq, version, deleted: false, inserted_at: at, updated_at: at };
}

/** A server answering each action by its body: `ok` unless `verdicts[body]` says otherwise. */
function perAction(verdicts: Record<string, Verdict> = {}): Handler {
	const seqs = new Map<string, number>();
	return (room, actions) =>
		json(200, {
			results: actions.map((a) => {
				const v = verdicts[String(a.payload.body)] ?? 'ok';
				if (v !== 'ok') return { client_id: a.client_id, status: 'error', ...v };
				const seq = (seqs.get(room) ?? 0) + 1;
				seqs.set(room, seq);
				return { client_id: a.client_id, status: 'ok', message: serverMessage(room, a.client_id, String(a.payload.body), seq) };
			})
		});
}

function setup(options: {
	items: QueueItem[];
	session?: string | null | 'network';
	handler?: Handler;
	lockFree?: boolean | boolean[];
	locks?: boolean;
	appUser?: string | null;
	snapshots?: Record<string, unknown>;
}) {
	const storage = new RecordingStorage();
	void storage.write(USER, { put: options.items, meta: options.snapshots ?? {} });
	storage.writes = [];
	const posts: Array<{ room: string; actions: Array<{ client_id: string; type: string; payload: Record<string, unknown> }> }> = [];
	const handler = options.handler ?? perAction();
	const frees = Array.isArray(options.lockFree) ? [...options.lockFree] : null;
	const lockRequests: string[] = [];
	const locks: LockPort = {
		async request(name, _opts, callback) {
			lockRequests.push(name);
			const free = frees ? (frees.shift() ?? false) : (options.lockFree ?? true);
			return callback(free ? { name } : null);
		}
	};
	const broadcasts: unknown[] = [];
	const flushOptions: FlushOptions = {
		...chatFlushOptions(),
		async sessionCheck() {
			const s = options.session === undefined ? USER : options.session;
			if (s === 'network') throw new TypeError('Failed to fetch');
			return s;
		}
	};
	const deps: FlushDeps = {
		async fetch(input, init) {
			expect(String(input)).toBe('/api/sync/events');
			expect(init?.method).toBe('POST');
			expect(init?.credentials).toBe('same-origin');
			const body = JSON.parse(String(init?.body));
			posts.push(body);
			const answer = await handler(body.room, body.actions);
			if (answer === 'network') throw new TypeError('Failed to fetch');
			return answer;
		},
		storage,
		locks: options.locks === false ? null : locks,
		signedInUser: async () => (options.appUser === undefined ? USER : options.appUser),
		hasOpenTabs: async () => !(options.lockFree ?? true),
		now: () => 5000,
		broadcast: (_user, message) => broadcasts.push(message),
		lockRetryDelaysMs: [1, 1]
	};
	const flush = () => flushQueue(flushOptions, deps);
	return { deps, flush, storage, posts, lockRequests, broadcasts };
}

describe('flushQueue with the chat options', () => {
	it('signed out (the session check says nobody): nothing is read or sent', async () => {
		const t = setup({ items: [item('i1', 'room:a', 'x')], session: null });
		const report = await t.flush();
		expect(report.status).toBe('signed-out');
		expect(t.posts).toEqual([]);
		expect(t.lockRequests).toEqual([]);
	});

	it('the app signed out (maybe offline, the cookie still valid) or another user signed in: nothing is sent', async () => {
		for (const appUser of [null, 'u2']) {
			const t = setup({ items: [item('i1', 'room:a', 'x')], appUser });
			await expect(t.flush()).resolves.toMatchObject({ status: 'signed-out', requests: 0 });
			expect(t.lockRequests).toEqual([]);
			expect(t.storage.stored('i1')?.status).toBe('queued');
		}
	});

	it('no network for the session check: rejects so the browser retries', async () => {
		const t = setup({ items: [item('i1', 'room:a', 'x')], session: 'network' });
		await expect(t.flush()).rejects.toThrow(TypeError);
		expect(t.posts).toEqual([]);
	});

	it('sends each room in creation order, under the user lock, and removes what the server confirmed, one write per batch', async () => {
		const t = setup({ items: [item('i2', 'room:a', 'a2'), item('i1', 'room:a', 'a1'), item('i3', 'room:b', 'b3')] });
		const report = await t.flush();
		expect(t.lockRequests).toEqual(['outbox:u1']);
		expect(t.posts).toEqual([
			{
				room: 'a',
				actions: [
					{ client_id: 'i1', type: 'send_message', payload: { body: 'a1' } },
					{ client_id: 'i2', type: 'send_message', payload: { body: 'a2' } }
				]
			},
			{ room: 'b', actions: [{ client_id: 'i3', type: 'send_message', payload: { body: 'b3' } }] }
		]);
		expect(report).toMatchObject({ status: 'flushed', sent: ['i1', 'i2', 'i3'], failed: [], retry: [], requests: 2 });
		expect(t.storage.snapshot(USER)).toEqual([]);
		expect(t.storage.writes).toEqual([
			{ puts: [], deletes: ['i1', 'i2'], meta: [] },
			{ puts: [], deletes: ['i3'], meta: [] }
		]);
		expect(t.broadcasts).toEqual([
			{ kind: 'queue-changed', namespace: 'u1', items: [], removedIds: ['i1', 'i2'] },
			{ kind: 'queue-changed', namespace: 'u1', items: [], removedIds: ['i3'] }
		]);
	});

	it("merges what the server confirmed into the room's stored snapshot, in the same write (cursor kept)", async () => {
		const seen = serverMessage('a', 'old', 'seen', 0);
		const t = setup({ items: [item('i1', 'room:a', 'a1')], snapshots: { [snapshotKey('room:a')]: { cursor: 'k7', messages: [seen], syncedAt: 42 } } });
		await t.flush();
		expect(t.storage.writes).toEqual([{ puts: [], deletes: ['i1'], meta: [snapshotKey('room:a')] }]);
		const stored = (await t.storage.getMeta(USER, snapshotKey('room:a'))) as { cursor: string; syncedAt: number; messages: Message[] };
		expect(stored.cursor).toBe('k7');
		expect(stored.syncedAt).toBe(42);
		expect(stored.messages.map((m) => m.client_id)).toEqual(['old', 'i1']);
	});

	it('splits a long lane into batches of 100, in order', async () => {
		const items = Array.from({ length: 230 }, (_, n) => item(`i${String(n).padStart(3, '0')}`, 'room:a', `m${n}`));
		const t = setup({ items });
		await t.flush();
		expect(t.posts.map((p) => p.actions.length)).toEqual([100, 100, 30]);
		expect(t.posts.flatMap((p) => p.actions.map((a) => a.client_id))).toEqual(items.map((i) => i.id));
	});

	it('a tab holds the lock: sends nothing, and rejects while items wait (the browser asks again later)', async () => {
		const t = setup({ items: [item('i1', 'room:a', 'x')], lockFree: false });
		const error = await t.flush().catch((e: unknown) => e);
		expect(error).toBeInstanceOf(FlushIncompleteError);
		expect((error as FlushIncompleteError).report.status).toBe('tab-open');
		expect(t.lockRequests).toHaveLength(3); // first try + two retries
		expect(t.posts).toEqual([]);
		expect(t.storage.stored('i1')?.status).toBe('queued');
	});

	it('a tab holds the lock and nothing waits (only failed items): resolves', async () => {
		const t = setup({ items: [item('i1', 'room:a', 'x', { status: 'failed' })], lockFree: false });
		await expect(t.flush()).resolves.toMatchObject({ status: 'tab-open', requests: 0 });
	});

	it('a lock released a moment later (a tab that just closed) is taken on a retry', async () => {
		const t = setup({ items: [item('i1', 'room:a', 'x')], lockFree: [false, true] });
		await expect(t.flush()).resolves.toMatchObject({ status: 'flushed', sent: ['i1'] });
		expect(t.lockRequests).toHaveLength(2);
	});

	it('without Web Locks it sends only when no window is open', async () => {
		const open = setup({ items: [item('i1', 'room:a', 'x')], locks: false, lockFree: false });
		await expect(open.flush()).rejects.toBeInstanceOf(FlushIncompleteError);
		expect(open.posts).toEqual([]);
		const closed = setup({ items: [item('i1', 'room:a', 'x')], locks: false });
		await expect(closed.flush()).resolves.toMatchObject({ sent: ['i1'] });
	});

	it('permanent verdicts fail the item with lastError as the kit does (attempts unchanged), and the lane goes on', async () => {
		const t = setup({
			items: [item('i1', 'room:a', 'ok1'), item('i2', 'room:a', 'bad', { attempts: 2 }), item('i3', 'room:a', 'ok3')],
			handler: perAction({ bad: { reason: 'invalid', message: 'body is longer than 4000 characters' } })
		});
		const report = await t.flush();
		expect(report).toMatchObject({ sent: ['i1', 'i3'], failed: ['i2'], retry: [] });
		expect(t.storage.stored('i2')).toEqual({
			...item('i2', 'room:a', 'bad'),
			status: 'failed',
			attempts: 2,
			lastError: {
				reason: 'invalid',
				verdict: 'fail',
				message: 'body is longer than 4000 characters',
				detail: { reason: 'invalid', message: 'body is longer than 4000 characters' },
				at: 5000
			},
			nextAttemptAt: null
		});
		expect(t.storage.writes).toEqual([{ puts: ['i2'], deletes: ['i1', 'i3'], meta: [] }]);
	});

	it('each permanent reason fails; each retryable one stays queued, charged, and holds its lane; other rooms go on', async () => {
		for (const reason of ['forbidden', 'conflict', 'unauthorized']) {
			const t = setup({ items: [item('i1', 'room:a', 'x')], handler: perAction({ x: { reason } }) });
			await expect(t.flush()).resolves.toMatchObject({ failed: ['i1'] });
			expect(t.storage.stored('i1')).toMatchObject({ status: 'failed', lastError: { reason } });
		}
		for (const reason of ['rate_limited', 'internal']) {
			const t = setup({
				items: [item('i1', 'room:a', 'x'), item('i2', 'room:a', 'later-batch-ok'), item('i3', 'room:b', 'y')],
				handler: perAction({ x: { reason } })
			});
			const error = (await t.flush().catch((e: unknown) => e)) as FlushIncompleteError;
			expect(error).toBeInstanceOf(FlushIncompleteError);
			expect(t.storage.stored('i1')).toMatchObject({ status: 'queued', attempts: 1, lastError: { reason, at: 5000 }, nextAttemptAt: expect.any(Number) });
			// i2 was in the same batch and the server took it; room b was not held up.
			expect(error.report).toMatchObject({ sent: ['i2', 'i3'], retry: ['i1'] });
		}
	});

	it('honours a stored backoff: an item whose next attempt is later is not sent now, and the browser is asked to try again', async () => {
		const t = setup({ items: [item('i1', 'room:a', 'x', { attempts: 1, nextAttemptAt: 9000, lastError: { reason: 'internal', at: 1 } }), item('i2', 'room:b', 'y')] });
		const error = (await t.flush().catch((e: unknown) => e)) as FlushIncompleteError;
		expect(error).toBeInstanceOf(FlushIncompleteError);
		expect(t.posts.map((p) => p.room)).toEqual(['b']);
		expect(error.report).toMatchObject({ sent: ['i2'], retry: ['i1'] });
	});

	it('a retryable failure stops its lane before the next batch (order)', async () => {
		const items = Array.from({ length: 150 }, (_, n) => item(`i${String(n).padStart(3, '0')}`, 'room:a', n === 5 ? 'boom' : `m${n}`));
		const t = setup({ items, handler: perAction({ boom: { reason: 'internal' } }) });
		await expect(t.flush()).rejects.toBeInstanceOf(FlushIncompleteError);
		expect(t.posts).toHaveLength(1);
		expect(t.storage.snapshot(USER)).toHaveLength(51); // the 50 of the second batch and the one to retry
	});

	it('a network failure is uncharged, holds the lane, and rejects; other rooms go on', async () => {
		const t = setup({ items: [item('i1', 'room:a', 'x'), item('i2', 'room:b', 'y')], handler: (room) => (room === 'a' ? 'network' : perAction()(room, [{ client_id: 'i2', type: 'send_message', payload: { body: 'y' } }])) });
		const error = (await t.flush().catch((e: unknown) => e)) as FlushIncompleteError;
		expect(error).toBeInstanceOf(FlushIncompleteError);
		expect(t.storage.stored('i1')).toMatchObject({ status: 'queued', attempts: 0, lastError: { reason: 'closed' } });
		expect(error.report).toMatchObject({ sent: ['i2'], retry: ['i1'] });
		expect(t.posts.filter((p) => p.room === 'a')).toHaveLength(1);
	});

	it('a request refused as a whole: 403 fails the batch, 5xx and 429 are retried, 401 keeps everything queued', async () => {
		const forbidden = setup({ items: [item('i1', 'room:dm-x-y', 'x'), item('i2', 'room:dm-x-y', 'y')], handler: () => json(403, { reason: 'forbidden' }) });
		await expect(forbidden.flush()).resolves.toMatchObject({ failed: ['i1', 'i2'] });
		expect(forbidden.storage.stored('i2')).toMatchObject({ status: 'failed', lastError: { reason: 'forbidden' } });

		const down = setup({ items: [item('i1', 'room:a', 'x')], handler: () => new Response('bad gateway', { status: 502 }) });
		await expect(down.flush()).rejects.toBeInstanceOf(FlushIncompleteError);
		expect(down.storage.stored('i1')).toMatchObject({ status: 'queued', attempts: 1, lastError: { reason: 'internal' } });

		const busy = setup({ items: [item('i1', 'room:a', 'x')], handler: () => json(429, { reason: 'rate_limited' }) });
		await expect(busy.flush()).rejects.toBeInstanceOf(FlushIncompleteError);
		expect(busy.storage.stored('i1')).toMatchObject({ status: 'queued', lastError: { reason: 'rate_limited' } });

		const revoked = setup({ items: [item('i1', 'room:a', 'x'), item('i2', 'room:b', 'y')], handler: () => json(401, { reason: 'unauthorized' }) });
		await expect(revoked.flush()).resolves.toMatchObject({ status: 'signed-out', requests: 1 });
		expect(revoked.storage.snapshot(USER).map((i) => i.status)).toEqual(['queued', 'queued']);
	});

	it('a reply without a result for an action is a retryable internal failure', async () => {
		const t = setup({ items: [item('i1', 'room:a', 'x')], handler: () => json(200, { results: [] }) });
		await expect(t.flush()).rejects.toBeInstanceOf(FlushIncompleteError);
		expect(t.storage.stored('i1')).toMatchObject({ status: 'queued', lastError: { reason: 'internal' } });
	});

	it('leaves lanes that are not rooms, and app-defined actions heading a lane, to a tab (no retry asked)', async () => {
		const t = setup({
			items: [item('i1', 'presence:a', 'x'), { ...item('i2', 'room:a', 'r'), type: 'add_reaction' }, item('i3', 'room:a', 'after')]
		});
		await expect(t.flush()).resolves.toMatchObject({ requests: 0, sent: [], retry: [] });
		expect(t.storage.snapshot(USER)).toHaveLength(3);
	});

	it('an empty queue: nothing to do', async () => {
		const t = setup({ items: [] });
		await expect(t.flush()).resolves.toMatchObject({ status: 'empty', requests: 0 });
	});

	it('checks its options', async () => {
		const t = setup({ items: [] });
		await expect(flushQueue({} as FlushOptions, t.deps)).rejects.toThrow(/endpoint/);
	});
});

describe('mergeIntoSnapshot', () => {
	const m = (seq: number, version = 1, body = `m${seq}`) => serverMessage('a', `c${seq}`, body, seq, version);

	it('no snapshot stored (or not one): null, nothing is written', () => {
		expect(mergeIntoSnapshot(undefined, [m(1)])).toBeNull();
		expect(mergeIntoSnapshot({ messages: [] }, [m(1)])).toBeNull();
		expect(mergeIntoSnapshot({ cursor: 'c', messages: 'x' }, [m(1)])).toBeNull();
	});

	it('adds the confirmed messages in seq order and keeps the cursor (the next sync still fetches the rest)', () => {
		const next = mergeIntoSnapshot({ cursor: 'k1', messages: [m(1), m(2)] }, [m(5), m(4)]);
		expect(next?.cursor).toBe('k1');
		expect(next?.messages.map((x) => x.seq)).toEqual([1, 2, 4, 5]);
	});

	it('keeps the newest version of a message and ignores older copies', () => {
		const next = mergeIntoSnapshot({ cursor: 'k', messages: [m(1), m(2, 3, 'third')] }, [m(1, 2, 'edited'), m(2, 2, 'older')]);
		expect(next?.messages.map((x) => [x.seq, x.version, x.body])).toEqual([
			[1, 2, 'edited'],
			[2, 3, 'third']
		]);
	});

	it(`keeps the last max(held, ${DEFAULT_SNAPSHOT_LIMIT}) messages`, () => {
		const held = Array.from({ length: DEFAULT_SNAPSHOT_LIMIT }, (_, i) => m(i + 1));
		const next = mergeIntoSnapshot({ cursor: 'k', messages: held }, [m(DEFAULT_SNAPSHOT_LIMIT + 1), m(DEFAULT_SNAPSHOT_LIMIT + 2)]);
		expect(next?.messages).toHaveLength(DEFAULT_SNAPSHOT_LIMIT);
		expect(next?.messages[0]?.seq).toBe(3);
		expect(next?.messages.at(-1)?.seq).toBe(DEFAULT_SNAPSHOT_LIMIT + 2);
		const bigger = Array.from({ length: 300 }, (_, i) => m(i + 1));
		expect(mergeIntoSnapshot({ cursor: 'k', messages: bigger }, [m(301)])?.messages).toHaveLength(300);
	});

	it('the hook ignores replies that carry no message it can read', async () => {
		const hook = chatFlushOptions().onConfirmed!;
		const get = async () => ({ cursor: 'k', messages: [m(1)] });
		expect(await hook('room:a', [{ unread_count: 0 }, { message: { id: 'x' } }], get)).toBeNull();
		expect(Object.keys((await hook('room:a', [{ message: m(2) }], get)) ?? {})).toEqual([snapshotKey('room:a')]);
	});
});

describe('flushQueue with files', () => {
	const withFiles = (id: string, topic: string, body: string, names: string[]) =>
		item(id, topic, body, {
			payload: { body, attachments: names.map((_, i) => `local-${i}`) },
			files: itemFiles(id, names.map((name) => new File(['%PDF-1.7 x'], name, { type: 'application/pdf' })))
		});

	it('uploads an item\'s files first (derived ids, recorded in storage), then posts it naming the uploads; the lane keeps its order', async () => {
		const t = setup({ items: [withFiles('i1', 'room:a', 'files', ['a.pdf', 'b.pdf']), item('i2', 'room:a', 'after')] });
		const uploads: string[] = [];
		t.deps.uploader = {
			async upload(request) {
				uploads.push(request.uploadId);
				return { kind: 'ok', upload: { id: `srv-${request.uploadId.replace('.', '_')}`, name: request.name, type: request.type, size: request.blob.size } };
			}
		};
		const report = await t.flush();
		expect(uploads).toEqual(['i1.0', 'i1.1']);
		expect(t.posts.map((p) => p.actions.map((a) => [a.client_id, a.payload.attachments ?? null]))).toEqual([
			[['i1', ['srv-i1_0', 'srv-i1_1']]],
			[['i2', null]]
		]);
		expect(report.sent).toEqual(['i1', 'i2']);
		expect(t.storage.snapshot(USER)).toEqual([]);
		expect(t.storage.blobCount()).toBe(0);
	});

	it('a refused file fails its item with the reason; a network failure leaves it queued (uploaded files recorded) for the next sync', async () => {
		const t = setup({ items: [withFiles('i1', 'room:a', 'bad', ['x.pdf']), withFiles('i2', 'room:b', 'later', ['y.pdf', 'z.pdf'])] });
		t.deps.uploader = {
			async upload(request) {
				if (request.uploadId === 'i1.0') return { kind: 'refused', status: 415, reason: 'invalid' };
				if (request.uploadId === 'i2.1') return { kind: 'network' };
				return { kind: 'ok', upload: { id: 'srv-y', name: request.name, type: request.type, size: request.blob.size } };
			}
		};
		await expect(t.flush()).rejects.toBeInstanceOf(FlushIncompleteError);
		expect(t.posts).toEqual([]);
		expect(t.storage.stored('i1')).toMatchObject({ status: 'failed', lastError: { reason: 'invalid' } });
		expect(t.storage.stored('i1')?.lastError?.message).toMatch(/x\.pdf/);
		const later = t.storage.stored('i2');
		expect(later?.status).toBe('queued');
		expect(later?.files?.map((f) => f.upload?.id ?? null)).toEqual(['srv-y', null]);
	});

	it('without an uploader, an item with files is left to a tab', async () => {
		const t = setup({ items: [withFiles('i1', 'room:a', 'files', ['a.pdf'])] });
		await expect(t.flush()).rejects.toBeInstanceOf(FlushIncompleteError);
		expect(t.posts).toEqual([]);
		expect(t.storage.stored('i1')?.status).toBe('queued');
	});
});
