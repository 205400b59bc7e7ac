import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgStore } from '../../src/lib/server/store/pg-store.js';
import { MIGRATIONS } from '../../src/lib/server/store/pg-migrations.js';
import type { ChatStore } from '../../src/lib/server/store/port.js';
import { adminQuery, dropSchemas, freshSchema, TEST_DATABASE_URL } from './helpers/pg.js';
import { describeStoreContract, markRead, messageOf, send } from './store-contract.js';

// One schema for the contract's stores and one for its concurrency test,
// made for this run and dropped at the end; emptied after every test (rows,
// not tables: much cheaper than a schema per test).
const MAIN = freshSchema('store');
const CONCURRENT = freshSchema('store_conc');
const open = (schema: string, poolSize = 4) =>
	createPgStore({ connectionString: TEST_DATABASE_URL, schema, poolSize });
const EMPTY_TABLES = ['actions', 'room_members', 'message_attachments', 'upload_chunks', 'uploads', 'messages', 'rooms', 'revoked_tokens', 'users'];

beforeAll(async () => {
	// Fails the file at once, with the how-to, when PostgreSQL is not there.
	await adminQuery('SELECT 1');
	for (const schema of [MAIN, CONCURRENT]) await (await open(schema)).close();
});
afterAll(() => dropSchemas([MAIN, CONCURRENT]));

describeStoreContract('postgres', async () => open(MAIN), {
	openConnections: async (count) => {
		// One at a time, each with its own pool: separate connections, as separate processes would have.
		const stores: ChatStore[] = [];
		for (let i = 0; i < count; i++) stores.push(await open(CONCURRENT, 2));
		return stores;
	},
	cleanup: async () => {
		for (const schema of [MAIN, CONCURRENT]) {
			await adminQuery(EMPTY_TABLES.map((t) => `DELETE FROM "${schema}".${t};`).join(' '));
		}
	}
});

describe('PostgreSQL store specifics', () => {
	const own: string[] = [];
	afterAll(() => dropSchemas(own));
	const fresh = () => {
		const schema = freshSchema('pgspec');
		own.push(schema);
		return schema;
	};

	it('migrates a schema exactly once when several processes start at the same moment', async () => {
		const schema = fresh();
		const stores = await Promise.all(Array.from({ length: 4 }, () => open(schema, 1)));
		await Promise.all(stores.map((s) => s.close()));
		const rows = await adminQuery<{ version: number }>(`SELECT version FROM "${schema}".schema_migrations ORDER BY version`);
		expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
	});

	it('keeps users, messages and read markers across a reopen', async () => {
		const schema = fresh();
		const first = await open(schema);
		const { user: ada } = await first.createUser('Ada', 'h');
		const { user: bob } = await first.createUser('Bob', 'h');
		await first.applyActions(bob, 'lobby', [send('b1'), send('b2')]);
		await first.applyActions(ada, 'lobby', [markRead('r1', 1)]);
		await first.close();

		const second = await open(schema);
		expect((await second.findUserByName('ada'))?.id).toBe(ada.id);
		expect(await second.unreadCount('lobby', ada.id)).toBe(1);
		const replay = await second.applyActions(bob, 'lobby', [send('b1')]);
		expect(messageOf(replay.results[0]).seq).toBe(1);
		expect(replay.created).toEqual([]);
		await second.close();
	});

	it('applies the same client_id racing on 4 connections once (one room or several), and every racer gets that outcome', async () => {
		const schema = fresh();
		const stores = await Promise.all(Array.from({ length: 4 }, () => open(schema, 1)));
		try {
			const { user } = await stores[0]!.createUser('Ada', 'h');
			for (let round = 0; round < 10; round++) {
				// Odd rounds in different rooms, so the room lock does not order them: the unique key must.
				const room = (i: number) => (round % 2 === 0 ? 'shared' : `room-${i}`);
				const replies = await Promise.all(
					stores.map((s, i) => s.applyActions(user, room(i), [send(`same-${round}`, `from ${i}`)]))
				);
				const ids = new Set(replies.map((r) => messageOf(r.results[0]).id));
				expect(ids.size).toBe(1);
				expect(replies.flatMap((r) => r.created)).toHaveLength(1);
			}
			const rows = await adminQuery<{ n: number }>(`SELECT count(*)::int AS n FROM "${schema}".messages`);
			expect(rows[0]!.n).toBe(10);
		} finally {
			await Promise.all(stores.map((s) => s.close()));
		}
	});

	it('refuses a schema written by a newer version of the code', async () => {
		const schema = fresh();
		await (await open(schema)).close();
		await adminQuery(`INSERT INTO "${schema}".schema_migrations (version) VALUES ($1)`, [MIGRATIONS.length + 1]);
		await expect(open(schema)).rejects.toThrow(/newer/);
	});

	it('says where and what to do when PostgreSQL cannot be reached, and rejects misuse', async () => {
		const unreachable = createPgStore({ connectionString: 'postgres://nobody:secret@127.0.0.1:1/none' });
		await expect(unreachable).rejects.toThrow(/cannot connect to PostgreSQL at postgres:\/\/nobody:\*\*\*@127\.0\.0\.1:1\/none.*DATABASE_URL/);
		await expect(createPgStore({ connectionString: 'mysql://x' })).rejects.toThrow(TypeError);
		await expect(createPgStore({ connectionString: TEST_DATABASE_URL, schema: 'Bad; DROP' })).rejects.toThrow(TypeError);
	});
});
