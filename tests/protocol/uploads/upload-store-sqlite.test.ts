import { mkdtempSync, rmSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteStore } from '../../../src/lib/server/store/sqlite-store.js';
import { createSqliteUploadStore } from '../../../src/lib/server/uploads/sqlite-upload-store.js';
import { randomId } from '../../../src/lib/server/store/ids.js';
import { fileOf, filesIn } from './helpers.js';
import { describeUploadStoreContract, stage } from './upload-store-contract.js';

const root = mkdtempSync(join(tmpdir(), 'outbox-uploads-sqlite-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let count = 0;

/** A chat store and an upload store on one fresh database file, files beside it. */
async function open() {
	const dir = join(root, `db-${++count}`);
	const file = join(dir, 'outbox.db');
	const chat = createSqliteStore({ file });
	const uploads = await createSqliteUploadStore({ file, dir: join(dir, 'uploads') });
	const others: { close(): Promise<void> }[] = [];
	return {
		dir,
		chat,
		uploads,
		async another() {
			const other = await createSqliteUploadStore({ file, dir: join(dir, 'uploads') });
			others.push(other);
			return other;
		},
		async close() {
			await Promise.all(others.map((o) => o.close()));
			await uploads.close();
			await chat.close();
			rmSync(dir, { recursive: true, force: true });
		}
	};
}

describeUploadStoreContract('sqlite + files on disk', open);

describe('SQLite upload store specifics', () => {
	it('keeps each file under its id in the uploads folder, and nothing else', async () => {
		const stores = await open();
		try {
			const { user } = await stores.chat.createUser('Ada', 'h');
			const meta = { id: randomId(24), ownerId: user.id, key: 'k', name: 'a.png', type: 'image/png' as const, createdAt: Date.now() };
			await stores.uploads.commit(await stage(fileOf('image/png', 100)), meta, { sinceMs: 0, maxBytes: 1e9 });
			expect(filesIn(join(stores.dir, 'uploads'))).toEqual([meta.id]);
		} finally {
			await stores.close();
		}
	});

	it('clears bytes a crash left without a record once they are older than the cut-off', async () => {
		const stores = await open();
		try {
			const folder = join(stores.dir, 'uploads');
			const stale = join(folder, randomId(24));
			const fresh = join(folder, randomId(24));
			writeFileSync(stale, 'left by a crash');
			writeFileSync(fresh, 'being committed right now');
			const old = (Date.now() - 2 * 24 * 3600 * 1000) / 1000;
			utimesSync(stale, old, old);
			await stores.uploads.removeOrphans(Date.now() - 24 * 3600 * 1000);
			expect([existsSync(stale), existsSync(fresh)]).toEqual([false, true]);
		} finally {
			await stores.close();
		}
	});

	it('rejects misuse with errors that say how to call it', async () => {
		await expect(createSqliteUploadStore({ file: '', dir: root })).rejects.toThrow(TypeError);
		await expect(createSqliteUploadStore({ file: join(root, 'x.db'), dir: '' })).rejects.toThrow(/dir/);
	});
});
