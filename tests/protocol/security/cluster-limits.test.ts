/**
 * Cluster-wide limits: two nodes on one PostgreSQL (same schema, same
 * secret) share the sign-in attempt limits (per name, per address) and the
 * per-user `POST /api/sync/events` limit, so a cluster grants one allowance,
 * not one per node. The 11th wrong password for a name is refused whichever
 * node it reaches.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startServer, type TestServer } from '../chat/harness.js';
import { createPgLimits, RATE_LIMIT_TABLE } from '../../../src/lib/server/auth/shared-limits.js';
import { adminQuery, dropSchemas, freshSchema, TEST_DATABASE_URL } from '../helpers/pg.js';

const schema = freshSchema('limits');
let nodes: TestServer[] = [];

beforeAll(async () => {
	// TRUST_PROXY=1: each test signs in from its own address (X-Forwarded-For), as clients behind a balancer do.
	const config = { databaseUrl: TEST_DATABASE_URL, databaseSchema: schema, secretKey: randomBytes(24).toString('hex'), trustProxy: 1 };
	const options = { processMetrics: false, signInLimits: { perName: 10, perAddress: 25 }, syncEventsRateLimit: { perSecond: 0.1, burst: 4 } };
	// One after the other: the first migrates the schema (concurrent starts are cluster.test.ts's business).
	nodes.push(await startServer(config, options));
	nodes.push(await startServer(config, options));
}, 60_000);

afterAll(async () => {
	for (const node of nodes) await node.close();
	nodes = [];
	await dropSchemas([schema]);
});

async function signIn(node: TestServer, name: string, password: string, address = '198.51.100.1') {
	const res = await fetch(node.url + '/api/session', {
		method: 'POST',
		headers: { 'content-type': 'application/json', 'x-forwarded-for': address },
		body: JSON.stringify({ name, password })
	});
	return { status: res.status, body: (await res.json()) as any };
}

describe('two nodes on one PostgreSQL', () => {
	test('the 11th wrong password for a name is refused on either node, even with the right password', async () => {
		const [a, b] = nodes as [TestServer, TestServer];
		expect((await signIn(a, 'Victim', 'right-password')).status).toBe(200);
		for (let i = 0; i < 10; i++) {
			const res = await signIn(i % 2 === 0 ? a : b, 'Victim', `guess-${i}`);
			expect(res.status, `wrong password ${i + 1}`).toBe(401);
		}
		for (const node of [a, b]) {
			const refused = await signIn(node, 'Victim', 'guess-11');
			expect(refused.status).toBe(429);
			expect(refused.body).toMatchObject({ reason: 'rate_limited' });
			expect((await signIn(node, 'Victim', 'right-password')).status).toBe(429);
		}
		// The name is held, not the node: another name still signs in on both.
		expect((await signIn(a, 'Bystander', 'pw')).status).toBe(200);
		expect((await signIn(b, 'Bystander', 'pw')).status).toBe(200);
	});

	test('the per-address limit is shared too: 25 wrong passwords from one address, for many names, across both nodes', async () => {
		const [a, b] = nodes as [TestServer, TestServer];
		const names = Array.from({ length: 13 }, (_, i) => `Spray${i}`);
		for (const name of names) expect((await signIn(a, name, 'right', '192.0.2.50')).status).toBe(200);
		for (let i = 0; i < 25; i++) {
			const res = await signIn(i % 2 === 0 ? b : a, names[i % names.length]!, `wrong-${i}`, '203.0.113.7');
			expect(res.status, `wrong password ${i + 1} from the address`).toBe(401);
		}
		for (const node of [a, b]) expect((await signIn(node, 'Spray0', 'right', '203.0.113.7')).status).toBe(429);
		// Each name saw at most 2 wrong passwords: from another address they sign in.
		expect((await signIn(b, 'Spray0', 'right', '192.0.2.50')).status).toBe(200);
	});

	test('POST /api/sync/events: one allowance per user across the nodes (4 calls per 40 s window here)', async () => {
		const [a, b] = nodes as [TestServer, TestServer];
		const { token } = (await signIn(a, 'Syncer', 'pw-syncer', '192.0.2.60')).body as { token: string };
		const call = (node: TestServer) => node.api('POST', '/api/sync/events', { room: 'lobby', actions: [] }, token);
		for (const node of [a, b, a, b]) expect((await call(node)).status).toBe(200);
		for (const node of [a, b]) {
			const res = await fetch(node.url + '/api/sync/events', {
				method: 'POST',
				headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
				body: JSON.stringify({ room: 'lobby', actions: [] })
			});
			expect(res.status).toBe(429);
			expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
		}
	});

	test('rows of keys that stopped calling are swept an hour after their window; live ones stay', async () => {
		// The same table the nodes use (their migration made it), through a limiter set of our own.
		const limits = createPgLimits({ connectionString: TEST_DATABASE_URL, schema, perName: 10, perAddress: 25, syncEvents: { perSecond: 1, burst: 5 } });
		try {
			await limits.byName.record('sweep-old');
			await limits.byName.record('sweep-live');
			const rows = async () =>
				(await adminQuery<{ key: string }>(`SELECT key FROM "${schema}".${RATE_LIMIT_TABLE} WHERE key LIKE '%sweep-%' ORDER BY key`)).map((r) => r.key.replace(/^.*:/, ''));
			expect(await rows()).toEqual(['sweep-live', 'sweep-old']);
			// 'sweep-old' stopped calling: its window ended two hours ago.
			await adminQuery(`UPDATE "${schema}".${RATE_LIMIT_TABLE} SET expire = $1 WHERE key LIKE '%sweep-old'`, [Date.now() - 2 * 3_600_000]);
			expect(await limits.sweep()).toBe(1);
			expect(await rows()).toEqual(['sweep-live']);
			// Half an hour on, the live row's window ended less than an hour before: it stays.
			expect(await limits.sweep(Date.now() + 30 * 60_000)).toBe(0);
			expect(await rows()).toEqual(['sweep-live']);
		} finally {
			await limits.close();
		}
	});
});
