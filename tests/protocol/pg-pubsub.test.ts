import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Logger, PubSub, PubSubMessage } from '../../src/lib/server/channels/types.js';
import { createPgPubSub, type PgPubSubOptions } from '../../src/lib/server/pubsub/pg-pubsub.js';
import { adminQuery, dropSchemas, freshSchema, TEST_DATABASE_URL } from './helpers/pg.js';
import { until } from './chat/harness.js';

const schema = freshSchema('pubsub');
const open: PubSub[] = [];

beforeAll(async () => {
	await adminQuery('SELECT 1'); // fails the file at once, with the how-to, when PostgreSQL is not there
});
afterEach(async () => {
	await Promise.all(open.splice(0).map((p) => p.close?.()));
});
afterAll(() => dropSchemas([schema]));

async function pubsub(overrides: Partial<PgPubSubOptions> = {}): Promise<PubSub> {
	const p = await createPgPubSub({ connectionString: TEST_DATABASE_URL, schema, ...overrides });
	open.push(p);
	return p;
}

/** Every message a subscriber got, tagged by the `from` field of its payload. */
function record(p: PubSub): PubSubMessage[] {
	const seen: PubSubMessage[] = [];
	p.subscribe((m) => void seen.push(m));
	return seen;
}

const msg = (from: string, n: number, extra: Record<string, unknown> = {}): PubSubMessage => ({
	kind: 'broadcast',
	topic: 'room:lobby',
	event: 'new_message',
	payload: { from, n, ...extra }
});
const tags = (seen: PubSubMessage[], from: string) =>
	seen.flatMap((m) => (m.kind === 'broadcast' && m.payload.from === from ? [m.payload.n] : []));

/** A logger that keeps what it is told, so a test can wait for "reconnected". */
function memoryLogger(): Logger & { lines: string[] } {
	const lines: string[] = [];
	const keep = (_obj: object, msg?: string) => void lines.push(msg ?? '');
	return { lines, debug: keep, info: keep, warn: keep, error: keep };
}

describe('PostgreSQL pub/sub', () => {
	it("delivers each instance's and the other's messages exactly once, in publish order", async () => {
		const a = await pubsub();
		const b = await pubsub();
		const seenA = record(a);
		const seenB = record(b);
		const sends: Promise<void>[] = [];
		for (let n = 0; n < 100; n++) {
			sends.push(Promise.resolve(a.publish(msg('a', n))));
			sends.push(Promise.resolve(b.publish(msg('b', n))));
		}
		await Promise.all(sends);
		await until(() => seenA.length >= 200 && seenB.length >= 200, 5000, 'all 400 deliveries');
		await new Promise((r) => setTimeout(r, 200)); // room for a duplicate to show up
		const expected = Array.from({ length: 100 }, (_, n) => n);
		for (const seen of [seenA, seenB]) {
			expect(seen).toHaveLength(200);
			expect(tags(seen, 'a')).toEqual(expected);
			expect(tags(seen, 'b')).toEqual(expected);
		}
	});

	it('delivers its own publish synchronously, before publish returns', async () => {
		const a = await pubsub();
		const seen = record(a);
		const sent = a.publish(msg('a', 1));
		expect(tags(seen, 'a')).toEqual([1]);
		await sent;
	});

	it('carries a message larger than a NOTIFY payload whole, in order with small ones', async () => {
		const a = await pubsub();
		const b = await pubsub();
		const seenB = record(b);
		const big = 'x'.repeat(50_000) + 'é'.repeat(5_000);
		await Promise.all([a.publish(msg('a', 1)), a.publish(msg('a', 2, { big })), a.publish(msg('a', 3))]);
		await until(() => seenB.length >= 3, 5000, 'three deliveries');
		expect(tags(seenB, 'a')).toEqual([1, 2, 3]);
		const second = seenB[1]!;
		expect(second.kind === 'broadcast' && second.payload.big).toBe(big);
		const rows = await adminQuery<{ n: number }>(`SELECT count(*)::int AS n FROM "${schema}".pubsub_payloads`);
		expect(rows[0]!.n).toBeGreaterThanOrEqual(1);
	});

	it('prunes stored large payloads older than the retention', async () => {
		const a = await pubsub({ payloadRetentionMs: 50 });
		const b = await pubsub();
		const seenB = record(b);
		await a.publish(msg('a', 1, { big: 'y'.repeat(9000) }));
		await until(() => seenB.length === 1, 5000, 'first large message');
		await new Promise((r) => setTimeout(r, 100));
		await a.publish(msg('a', 2, { big: 'z'.repeat(9000) }));
		await until(() => seenB.length === 2, 5000, 'second large message');
		const rows = await adminQuery<{ body: { payload: { n: number } } }>(`SELECT body FROM "${schema}".pubsub_payloads`);
		expect(rows.map((r) => r.body.payload.n)).toEqual([2]);
	});

	it('reconnects after its connection is killed, tells its own process of the gap, and keeps delivering', async () => {
		const logA = memoryLogger();
		const logB = memoryLogger();
		const a = await pubsub({ channel: `kill_${schema}`.slice(0, 63), logger: logA, reconnectMs: { min: 20, max: 200 } });
		const b = await pubsub({ channel: `kill_${schema}`.slice(0, 63), logger: logB, reconnectMs: { min: 20, max: 200 } });
		const seenB = record(b);
		const killed = await adminQuery<{ ok: boolean }>(
			'SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1',
			[`outbox-pubsub ${process.pid} kill_${schema}`.slice(0, 63)]
		);
		expect(killed).toHaveLength(2);
		const reconnected = (log: { lines: string[] }) => log.lines.some((l) => l.includes('reconnected'));
		await until(() => reconnected(logA) && reconnected(logB), 5000, 'both reconnected');
		expect(logA.lines.some((l) => l.includes('lost the PostgreSQL connection'))).toBe(true);
		// NOTIFYs sent while it was away are gone for good: its own process hears of the gap.
		await until(() => seenB.some((m) => m.kind === 'gap'), 5000, 'the gap told');
		expect(seenB).toEqual([{ kind: 'gap', reason: 'listen connection lost' }]);
		await a.publish(msg('a', 7));
		await until(() => seenB.length === 2, 5000, 'delivery after reconnect');
		expect(tags(seenB, 'a')).toEqual([7]);
	});

	it('keeps two schemas (two clusters on one database) apart', async () => {
		const otherSchema = freshSchema('pubsub2');
		try {
			const other = await pubsub({ schema: otherSchema });
			const a = await pubsub();
			const b = await pubsub();
			const seenB = record(b);
			await other.publish(msg('other', 1));
			await a.publish(msg('a', 1));
			// Committed after the other cluster's message: once it is here, a leak would be too.
			await until(() => seenB.length >= 1, 5000, "a's message");
			expect(tags(seenB, 'a')).toEqual([1]);
			expect(tags(seenB, 'other')).toEqual([]);
		} finally {
			await Promise.all(open.splice(0).map((p) => p.close?.()));
			await dropSchemas([otherSchema]);
		}
	});

	it('rejects misuse and names the server it could not reach', async () => {
		await expect(createPgPubSub({ connectionString: 'nope' })).rejects.toThrow(TypeError);
		await expect(createPgPubSub({ connectionString: TEST_DATABASE_URL, schema, channel: '' })).rejects.toThrow(TypeError);
		await expect(createPgPubSub({ connectionString: 'postgres://x:pw@127.0.0.1:1/db' })).rejects.toThrow(/127\.0\.0\.1:1/);
		const a = await pubsub();
		await a.close?.();
		expect(() => a.publish(msg('a', 1))).toThrow(/closed/);
	});
});
