/**
 * One table, both drivers of the queue: the page's send loop (a batch push
 * over the in-memory transport) and the service worker's flush (a batch POST)
 * must leave the same item behind for the same server answer, since both run
 * the core's planner, outcome mapping, classifier and reducer.
 */
import { describe, expect, it } from 'vitest';
import { createOutbox, defineAction, type Outbox, type QueueItem } from '../../../src/lib/outbox/index.js';
import { flushQueue, type FlushDeps } from '../../../src/lib/outbox/sw/index.js';
import { FakeClock, MemoryStorage, createMemoryTransportPair, ok, type ServerReply } from '../../../src/lib/outbox/testing/index.js';

const USER = 'u1';
const TOPIC = 'list:groceries';
const actions = { item_add: defineAction<{ title: string }>({ batchable: true }) };

/** How the server answers the second action of a batch of two (the first is always ok). */
interface Row {
	name: string;
	/** The batch result entry for the second action (without client_id), or null: no entry at all. */
	entry: Record<string, unknown> | null;
	expected: Partial<QueueItem> | 'removed';
}

const TABLE: Row[] = [
	{ name: 'ok', entry: { status: 'ok', item: { id: 7 } }, expected: 'removed' },
	{ name: 'invalid: fails, text kept', entry: { status: 'error', reason: 'invalid', message: 'title is empty' }, expected: { status: 'failed', attempts: 0, lastError: { reason: 'invalid', verdict: 'fail', message: 'title is empty', detail: { reason: 'invalid', message: 'title is empty' }, at: 5000 } } },
	{ name: 'forbidden: fails, rolled back', entry: { status: 'error', reason: 'forbidden' }, expected: { status: 'failed', attempts: 0, lastError: { reason: 'forbidden', verdict: 'rollback', detail: { reason: 'forbidden' }, at: 5000 } } },
	{ name: 'conflict', entry: { status: 'error', reason: 'conflict' }, expected: { status: 'failed', lastError: { reason: 'conflict', verdict: 'conflict', detail: { reason: 'conflict' }, at: 5000 } } },
	{ name: 'unauthorized', entry: { status: 'error', reason: 'unauthorized' }, expected: { status: 'failed', lastError: { reason: 'unauthorized', verdict: 'unauthorized', detail: { reason: 'unauthorized' }, at: 5000 } } },
	{ name: 'rate_limited: queued, charged, backoff', entry: { status: 'error', reason: 'rate_limited' }, expected: { status: 'queued', attempts: 1, nextAttemptAt: 5500, lastError: { reason: 'rate_limited', verdict: 'retry', detail: { reason: 'rate_limited' }, at: 5000 } } },
	{ name: 'internal: queued, charged, backoff', entry: { status: 'error', reason: 'internal' }, expected: { status: 'queued', attempts: 1, nextAttemptAt: 5500, lastError: { reason: 'internal', verdict: 'retry', detail: { reason: 'internal' }, at: 5000 } } },
	{
		name: "an Ecto-style error: fails with the server's words",
		entry: { status: 'error', errors: { title: ['has already been taken'] } },
		expected: { status: 'failed', attempts: 0, lastError: { reason: 'rejected', verdict: 'fail', message: 'title: has already been taken', detail: { errors: { title: ['has already been taken'] } }, at: 5000 } }
	},
	{ name: 'no result for it: a server fault, retried', entry: null, expected: { status: 'queued', attempts: 1, nextAttemptAt: 5500, lastError: { reason: 'internal', verdict: 'retry', message: 'the batch reply has no result for this action', at: 5000 } } }
];

const RETRY = { random: () => 0.5, baseMs: 1000, maxRetries: 5 };

function items(): QueueItem[] {
	const at = 4000;
	const base = { topic: TOPIC, attempts: 0, status: 'queued' as const, lastError: null, nextAttemptAt: null };
	return [
		{ ...base, id: 'a1', type: 'item_add', payload: { title: 'milk' }, createdAt: at },
		{ ...base, id: 'a2', type: 'item_add', payload: { title: 'eggs' }, createdAt: at + 1 }
	];
}

function results(ids: string[], row: Row): Record<string, unknown> {
	return { results: [{ client_id: ids[0], status: 'ok', item: { id: 1 } }, ...(row.entry ? [{ client_id: ids[1], ...row.entry }] : [])] };
}

/** The page: the engine pushes the two stored items as one batch; the stored second item after the reply. */
async function viaPage(row: Row): Promise<QueueItem | 'removed'> {
	const clock = new FakeClock(5000);
	const storage = new MemoryStorage();
	await storage.write(USER, { put: items() });
	const pair = createMemoryTransportPair({ clock, faults: { latencyMs: 0 } });
	let replied = false;
	pair.server.handle('send_batch', (request) => {
		replied = true;
		const ids = (request.payload.actions as Array<{ client_id: string }>).map((a) => a.client_id);
		return ok(results(ids, row)) as ServerReply;
	});
	const outbox: Outbox<typeof actions> = createOutbox({ actions, deps: { clock, storage, transport: pair.client }, retry: RETRY, eventTarget: null });
	await outbox.setUser(USER);
	for (let i = 0; i < 40 && !(replied && outbox.get('a2')?.status !== 'sending'); i++) await clock.advanceAsync(0);
	await outbox.close();
	expect(pair.server.receivedOf('send_batch')).toHaveLength(1);
	return storage.snapshot(USER).find((i) => i.id === 'a2') ?? 'removed';
}

/** The worker: the same two items flushed as one POST; the stored second item after it. */
async function viaWorker(row: Row): Promise<QueueItem | 'removed'> {
	const storage = new MemoryStorage();
	await storage.write(USER, { put: items() });
	const posts: unknown[] = [];
	const deps: FlushDeps = {
		async fetch(_url, init) {
			const body = JSON.parse(String(init?.body)) as { actions: Array<{ client_id: string }> };
			posts.push(body);
			return new Response(JSON.stringify(results(body.actions.map((a) => a.client_id), row)), { status: 200 });
		},
		storage,
		locks: null,
		signedInUser: async () => USER,
		hasOpenTabs: async () => false,
		now: () => 5000
	};
	await flushQueue({ endpoint: '/batch', sessionCheck: async () => USER, retry: RETRY }, deps).catch(() => null);
	expect(posts).toHaveLength(1);
	return storage.snapshot(USER).find((i) => i.id === 'a2') ?? 'removed';
}

describe('one table for both drivers (page send loop, service worker flush)', () => {
	it.each(TABLE)('$name', async (row) => {
		const [page, worker] = [await viaPage(row), await viaWorker(row)];
		if (row.expected === 'removed') {
			expect(page).toBe('removed');
			expect(worker).toBe('removed');
			return;
		}
		expect(page).toMatchObject(row.expected);
		expect(worker).toMatchObject(row.expected);
		expect(worker).toEqual(page);
	});
});
