import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgStore } from '../../../src/lib/server/store/pg-store.js';
import { randomId } from '../../../src/lib/server/store/ids.js';
import { CHUNK_BYTES, createPgUploadStore } from '../../../src/lib/server/uploads/pg-upload-store.js';
import { adminQuery, dropSchemas, freshSchema, TEST_DATABASE_URL } from '../helpers/pg.js';
import { fileOf } from './helpers.js';
import { describeUploadStoreContract, stage } from './upload-store-contract.js';

const schemas: string[] = [];
beforeAll(() => adminQuery('SELECT 1')); // fails at once, with the how-to, when PostgreSQL is not there
afterAll(() => dropSchemas(schemas));

/** A chat store and an upload store on a fresh schema. */
async function open() {
	const schema = freshSchema('uploads');
	schemas.push(schema);
	const connection = { connectionString: TEST_DATABASE_URL, schema };
	const chat = await createPgStore({ ...connection, poolSize: 2 });
	const uploads = await createPgUploadStore({ ...connection, poolSize: 2 });
	const others: { close(): Promise<void> }[] = [];
	return {
		schema,
		chat,
		uploads,
		async another() {
			const other = await createPgUploadStore({ ...connection, poolSize: 2 });
			others.push(other);
			return other;
		},
		async close() {
			await Promise.all(others.map((o) => o.close()));
			await uploads.close();
			await chat.close();
			await dropSchemas([schema]);
		}
	};
}

describeUploadStoreContract('postgres', open);

describe('PostgreSQL upload store specifics', () => {
	it(`keeps the bytes in ${CHUNK_BYTES}-byte chunks, removed with their upload`, async () => {
		const stores = await open();
		try {
			const { user } = await stores.chat.createUser('Ada', 'h');
			const bytes = fileOf('application/pdf', 2 * CHUNK_BYTES + 5);
			const meta = { id: randomId(24), ownerId: user.id, key: 'k', name: 'a.pdf', type: 'application/pdf' as const, createdAt: 1 };
			await stores.uploads.commit(await stage(bytes, 'application/pdf'), meta, { sinceMs: 0, maxBytes: 1e9 });
			const chunks = () => adminQuery<{ n: number; size: number }>(`SELECT n, length(data) AS size FROM "${stores.schema}".upload_chunks ORDER BY n`);
			expect(await chunks()).toEqual([
				{ n: 0, size: CHUNK_BYTES },
				{ n: 1, size: CHUNK_BYTES },
				{ n: 2, size: 5 }
			]);
			expect(await stores.uploads.removeOrphans(2)).toBe(1);
			expect(await chunks()).toEqual([]);
		} finally {
			await stores.close();
		}
	});

	it('says where and what to do when PostgreSQL cannot be reached, and rejects misuse', async () => {
		await expect(createPgUploadStore({ connectionString: 'postgres://nobody:secret@127.0.0.1:1/none' })).rejects.toThrow(/cannot connect to PostgreSQL at postgres:\/\/nobody:\*\*\*@127\.0\.0\.1:1\/none/);
		await expect(createPgUploadStore({ connectionString: TEST_DATABASE_URL, poolSize: 0 })).rejects.toThrow(TypeError);
	});
});
