/**
 * The service worker's background flush (src/lib/app/sw/flush.ts) on fake
 * ports: session, lock, queue and the HTTP API. The real IndexedDB and
 * Web Locks are exercised in tests/e2e/service-worker.spec.ts.
 */
import { describe, expect, it } from 'vitest';
import {
	FlushIncompleteError,
	flushOutbox,
	lanesOf,
	mergeIntoSnapshot,
	nextBatch,
	type ConfirmedInRoom,
	type FlushDeps,
	type LockPort,
	type QueueAccess
} from '../../../src/lib/app/sw/flush';
import { DEFAULT_SNAPSHOT_LIMIT } from '../../../src/lib/outbox/adapters/storage-layout';
import { createQueueItem, type QueueItem } from '../../../src/lib/outbox/core/queue-item';
import type { Message } from '../../../src/lib/protocol/message';

const USER = 'u1';

function item(id: string, topic: string, body: string, extra: Partial<QueueItem> = {}): QueueItem {
	return { ...createQueueItem({ id, type: 'send_message', topic, payload: { body }, createdAt: 1000 + Number(id.replace(/\D/g, '') || 0) }), ...extra };
}

class MemoryQueue implements QueueAccess {
	items_ = new Map<string, QueueItem>();
	commits: Array<{ puts: string[]; deletes: string[] }> = [];
	confirmed: Array<{ topic: string; clientIds: string[] }> = [];
	closed = false;
	constructor(items: QueueItem[]) {
		for (const i of items) this.items_.set(i.id, i);
	}
	async items(userId: string) {
		expect(userId).toBe(USER);
		return [...this.items_.values()];
	}
	async commit(_userId: string, puts: readonly QueueItem[], deletes: readonly string[], confirmed?: ConfirmedInRoom) {
		this.commits.push({ puts: puts.map((p) => p.id), deletes: [...deletes] });
		if (confirmed) this.confirmed.push({ topic: confirmed.topic, clientIds: confirmed.messages.map((m) => m.client_id) });
		for (const p of puts) this.items_.set(p.id, p);
		for (const d of deletes) this.items_.delete(d);
	}
	close() {
		this.closed = true;
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
	session?: Response | 'network';
	handler?: Handler;
	lockFree?: boolean | boolean[];
	locks?: boolean;
	appUser?: string | null;
}) {
	const queue = new MemoryQueue(options.items);
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
	const deps: FlushDeps = {
		async fetch(input, init) {
			const url = String(input);
			if (url.endsWith('/api/session')) {
				const s = options.session ?? json(200, { user: { id: USER, name: 'one' } });
				if (s === 'network') throw new TypeError('Failed to fetch');
				return s;
			}
			expect(url).toBe('/api/sync/events');
			expect(init?.method).toBe('POST');
			expect(init?.credentials).toBe('same-origin');
			const body = JSON.parse(String(init?.body));
			posts.push(body);
			const answer = await handler(body.room, body.actions);
			if (answer === 'network') throw new TypeError('Failed to fetch');
			return answer;
		},
		locks: options.locks === false ? null : locks,
		signedInUser: async () => (options.appUser === undefined ? USER : options.appUser),
		openQueue: async () => queue,
		hasOpenTabs: async () => !(options.lockFree ?? true),
		now: () => 5000,
		broadcast: (_user, message) => broadcasts.push(message),
		lockRetryDelaysMs: [1, 1]
	};
	return { deps, queue, posts, lockRequests, broadcasts };
}

describe('lanes and batches', () => {
	it('groups by topic in creation order, skips failed items and treats sending as queued', () => {
		const lanes = lanesOf([
			item('i3', 'room:a', 'a3'),
			item('i1', 'room:a', 'a1'),
			item('i2', 'room:b', 'b2', { status: 'sending' }),
			item('i4', 'room:a', 'a4', { status: 'failed' })
		]);
		expect([...lanes.keys()]).toEqual(['room:a', 'room:b']);
		expect(lanes.get('room:a')!.map((i) => i.id)).toEqual(['i1', 'i3']);
		expect(lanes.get('room:b')!.map((i) => i.status)).toEqual(['queued']);
	});

	it('a batch is at most 100 consecutive chat actions and stops at an app-defined type', () => {
		const many = Array.from({ length: 130 }, (_, n) => item(`i${n}`, 'room:a', `m${n}`));
		expect(nextBatch(many)).toHaveLength(100);
		const mixed = [item('i1', 'room:a', 'x'), { ...item('i2', 'room:a', 'y'), type: 'add_reaction' }, item('i3', 'room:a', 'z')];
		expect(nextBatch(mixed).map((i) => i.id)).toEqual(['i1']);
		expect(nextBatch(mixed.slice(1))).toEqual([]);
	});
});

describe('flushOutbox', () => {
	it('signed out (401): nothing is read or sent', async () => {
		const t = setup({ items: [item('i1', 'room:a', 'x')], session: json(401, { reason: 'unauthorized' }) });
		const report = await flushOutbox(t.deps);
		expect(report.status).toBe('signed-out');
		expect(t.posts).toEqual([]);
		expect(t.lockRequests).toEqual([]);
	});

	it('the app signed out (maybe offline, the cookie still valid) or another user signed in: nothing is sent', async () => {
		for (const appUser of [null, 'u2']) {
			const t = setup({ items: [item('i1', 'room:a', 'x')], appUser });
			await expect(flushOutbox(t.deps)).resolves.toMatchObject({ status: 'signed-out', requests: 0 });
			expect(t.lockRequests).toEqual([]);
			expect(t.queue.items_.get('i1')?.status).toBe('queued');
		}
	});

	it('no network for the session check: rejects so the browser retries', async () => {
		const t = setup({ items: [item('i1', 'room:a', 'x')], session: 'network' });
		await expect(flushOutbox(t.deps)).rejects.toThrow(TypeError);
		expect(t.posts).toEqual([]);
	});

	it('sends each room in creation order, under the user lock, and deletes what the server confirmed', async () => {
		const t = setup({ items: [item('i2', 'room:a', 'a2'), item('i1', 'room:a', 'a1'), item('i3', 'room:b', 'b3')] });
		const report = await flushOutbox(t.deps);
		expect(t.lockRequests).toEqual(['outbox:u1']);
		expect(t.posts).toEqual([
			{
				room: 'a',
				actions: [
					{ client_id: 'i1', type: 'send_message', payload: { body: 'a1', client_id: 'i1' } },
					{ client_id: 'i2', type: 'send_message', payload: { body: 'a2', client_id: 'i2' } }
				]
			},
			{ room: 'b', actions: [{ client_id: 'i3', type: 'send_message', payload: { body: 'b3', client_id: 'i3' } }] }
		]);
		expect(report).toMatchObject({ status: 'flushed', sent: ['i1', 'i2', 'i3'], failed: [], retry: [], requests: 2 });
		expect(t.queue.items_.size).toBe(0);
		expect(t.queue.commits).toEqual([
			{ puts: [], deletes: ['i1', 'i2'] },
			{ puts: [], deletes: ['i3'] }
		]);
		// What the server confirmed goes to each room's snapshot, in the same commit.
		expect(t.queue.confirmed).toEqual([
			{ topic: 'room:a', clientIds: ['i1', 'i2'] },
			{ topic: 'room:b', clientIds: ['i3'] }
		]);
		expect(t.queue.closed).toBe(true);
		expect(t.broadcasts).toEqual([
			{ kind: 'queue-changed', namespace: 'u1', items: [], removedIds: ['i1', 'i2'] },
			{ kind: 'queue-changed', namespace: 'u1', items: [], removedIds: ['i3'] }
		]);
	});

	it('splits a long lane into batches of 100, in order', async () => {
		const items = Array.from({ length: 230 }, (_, n) => item(`i${String(n).padStart(3, '0')}`, 'room:a', `m${n}`));
		const t = setup({ items });
		await flushOutbox(t.deps);
		expect(t.posts.map((p) => p.actions.length)).toEqual([100, 100, 30]);
		expect(t.posts.flatMap((p) => p.actions.map((a) => a.client_id))).toEqual(items.map((i) => i.id));
	});

	it('a tab holds the lock: sends nothing, and rejects while items wait (the browser asks again later)', async () => {
		const t = setup({ items: [item('i1', 'room:a', 'x')], lockFree: false });
		const error = await flushOutbox(t.deps).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(FlushIncompleteError);
		expect((error as FlushIncompleteError).report.status).toBe('tab-open');
		expect(t.lockRequests).toHaveLength(3); // first try + two retries
		expect(t.posts).toEqual([]);
		expect(t.queue.items_.get('i1')?.status).toBe('queued');
	});

	it('a tab holds the lock and nothing waits (only failed items): resolves', async () => {
		const t = setup({ items: [item('i1', 'room:a', 'x', { status: 'failed' })], lockFree: false });
		await expect(flushOutbox(t.deps)).resolves.toMatchObject({ status: 'tab-open', requests: 0 });
	});

	it('a lock released a moment later (a tab that just closed) is taken on a retry', async () => {
		const t = setup({ items: [item('i1', 'room:a', 'x')], lockFree: [false, true] });
		await expect(flushOutbox(t.deps)).resolves.toMatchObject({ status: 'flushed', sent: ['i1'] });
		expect(t.lockRequests).toHaveLength(2);
	});

	it('without Web Locks it sends only when no window is open', async () => {
		const open = setup({ items: [item('i1', 'room:a', 'x')], locks: false, lockFree: false });
		await expect(flushOutbox(open.deps)).rejects.toBeInstanceOf(FlushIncompleteError);
		expect(open.posts).toEqual([]);
		const closed = setup({ items: [item('i1', 'room:a', 'x')], locks: false });
		await expect(flushOutbox(closed.deps)).resolves.toMatchObject({ sent: ['i1'] });
	});

	it('permanent verdicts fail the item with lastError as the kit does (attempts unchanged), and the lane goes on', async () => {
		const t = setup({
			items: [item('i1', 'room:a', 'ok1'), item('i2', 'room:a', 'bad', { attempts: 2 }), item('i3', 'room:a', 'ok3')],
			handler: perAction({ bad: { reason: 'invalid', message: 'body is longer than 4000 characters' } })
		});
		const report = await flushOutbox(t.deps);
		expect(report).toMatchObject({ sent: ['i1', 'i3'], failed: ['i2'], retry: [] });
		expect(t.queue.items_.get('i2')).toEqual({
			...item('i2', 'room:a', 'bad'),
			status: 'failed',
			attempts: 2,
			lastError: { reason: 'invalid', message: 'body is longer than 4000 characters', at: 5000 },
			nextAttemptAt: null
		});
		expect(t.queue.commits).toEqual([{ puts: ['i2'], deletes: ['i1', 'i3'] }]);
	});

	it('each permanent reason fails; each retryable one stays queued, charged, and holds its lane; other rooms go on', async () => {
		for (const reason of ['forbidden', 'conflict', 'unauthorized']) {
			const t = setup({ items: [item('i1', 'room:a', 'x')], handler: perAction({ x: { reason } }) });
			await expect(flushOutbox(t.deps)).resolves.toMatchObject({ failed: ['i1'] });
			expect(t.queue.items_.get('i1')).toMatchObject({ status: 'failed', lastError: { reason } });
		}
		for (const reason of ['rate_limited', 'internal']) {
			const t = setup({
				items: [item('i1', 'room:a', 'x'), item('i2', 'room:a', 'later-batch-ok'), item('i3', 'room:b', 'y')],
				handler: perAction({ x: { reason } })
			});
			const error = (await flushOutbox(t.deps).catch((e: unknown) => e)) as FlushIncompleteError;
			expect(error).toBeInstanceOf(FlushIncompleteError);
			expect(t.queue.items_.get('i1')).toMatchObject({ status: 'queued', attempts: 1, lastError: { reason, at: 5000 } });
			// i2 was in the same batch and the server took it; room b was not held up.
			expect(error.report).toMatchObject({ sent: ['i2', 'i3'], retry: ['i1'] });
		}
	});

	it('a retryable failure stops its lane before the next batch (order)', async () => {
		const items = Array.from({ length: 150 }, (_, n) => item(`i${String(n).padStart(3, '0')}`, 'room:a', n === 5 ? 'boom' : `m${n}`));
		const t = setup({ items, handler: perAction({ boom: { reason: 'internal' } }) });
		await expect(flushOutbox(t.deps)).rejects.toBeInstanceOf(FlushIncompleteError);
		expect(t.posts).toHaveLength(1);
		expect(t.queue.items_.size).toBe(51); // the 50 of the second batch and the one to retry
	});

	it('a network failure leaves the batch untouched and uncharged, holds the lane, and rejects', async () => {
		const t = setup({ items: [item('i1', 'room:a', 'x'), item('i2', 'room:b', 'y')], handler: (room) => (room === 'a' ? 'network' : perAction()(room, [{ client_id: 'i2', type: 'send_message', payload: { body: 'y' } }])) });
		const error = (await flushOutbox(t.deps).catch((e: unknown) => e)) as FlushIncompleteError;
		expect(error).toBeInstanceOf(FlushIncompleteError);
		expect(t.queue.items_.get('i1')).toEqual(item('i1', 'room:a', 'x'));
		expect(error.report).toMatchObject({ sent: ['i2'], retry: ['i1'] });
	});

	it('a request refused as a whole: 403 fails the batch, 5xx and 429 are retried, 401 keeps everything queued', async () => {
		const forbidden = setup({ items: [item('i1', 'room:dm-x-y', 'x'), item('i2', 'room:dm-x-y', 'y')], handler: () => json(403, { reason: 'forbidden' }) });
		await expect(flushOutbox(forbidden.deps)).resolves.toMatchObject({ failed: ['i1', 'i2'] });
		expect(forbidden.queue.items_.get('i2')).toMatchObject({ status: 'failed', lastError: { reason: 'forbidden' } });

		const down = setup({ items: [item('i1', 'room:a', 'x')], handler: () => new Response('bad gateway', { status: 502 }) });
		await expect(flushOutbox(down.deps)).rejects.toBeInstanceOf(FlushIncompleteError);
		expect(down.queue.items_.get('i1')).toMatchObject({ status: 'queued', attempts: 1, lastError: { reason: 'internal' } });

		const busy = setup({ items: [item('i1', 'room:a', 'x')], handler: () => json(429, { reason: 'rate_limited' }) });
		await expect(flushOutbox(busy.deps)).rejects.toBeInstanceOf(FlushIncompleteError);
		expect(busy.queue.items_.get('i1')).toMatchObject({ status: 'queued', lastError: { reason: 'rate_limited' } });

		const revoked = setup({ items: [item('i1', 'room:a', 'x'), item('i2', 'room:b', 'y')], handler: () => json(401, { reason: 'unauthorized' }) });
		await expect(flushOutbox(revoked.deps)).resolves.toMatchObject({ status: 'signed-out', requests: 1 });
		expect([...revoked.queue.items_.values()].map((i) => i.status)).toEqual(['queued', 'queued']);
	});

	it('a reply without a result for an action is a retryable internal failure', async () => {
		const t = setup({ items: [item('i1', 'room:a', 'x')], handler: () => json(200, { results: [] }) });
		await expect(flushOutbox(t.deps)).rejects.toBeInstanceOf(FlushIncompleteError);
		expect(t.queue.items_.get('i1')).toMatchObject({ status: 'queued', lastError: { reason: 'internal' } });
	});

	it('leaves lanes that are not rooms, and app-defined actions heading a lane, to a tab', async () => {
		const t = setup({
			items: [item('i1', 'presence:a', 'x'), { ...item('i2', 'room:a', 'r'), type: 'add_reaction' }, item('i3', 'room:a', 'after')]
		});
		await expect(flushOutbox(t.deps)).resolves.toMatchObject({ requests: 0, sent: [] });
		expect(t.queue.items_.size).toBe(3);
	});

	it('no queue database: nothing to do', async () => {
		const t = setup({ items: [] });
		t.deps.openQueue = async () => null;
		await expect(flushOutbox(t.deps)).resolves.toMatchObject({ status: 'empty', requests: 0 });
		expect(t.lockRequests).toEqual([]);
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

	it('keeps the newest version of a message and ignores older copies and things that are not messages', () => {
		const next = mergeIntoSnapshot({ cursor: 'k', messages: [m(1), m(2, 3, 'third')] }, [m(1, 2, 'edited'), m(2, 2, 'older'), { id: 'x' } as unknown as Message]);
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
});
