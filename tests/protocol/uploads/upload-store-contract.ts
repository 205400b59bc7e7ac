/**
 * The contract every `UploadStore` passes (files on disk with SQLite, chunks
 * in PostgreSQL), with the chat store on the same database: messages name
 * uploads, which decides rooms and orphans.
 *
 * @example
 * describeUploadStoreContract('sqlite + disk', async () => { ... return { chat, uploads, another, close }; });
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Action, UploadType, User } from '../../../src/lib/protocol/index.js';
import type { ChatStore } from '../../../src/lib/server/store/port.js';
import type { NewUpload, StagedFile, UploadRecord, UploadStore } from '../../../src/lib/server/uploads/port.js';
import { stageUpload } from '../../../src/lib/server/uploads/staging.js';
import { randomId } from '../../../src/lib/server/store/ids.js';
import { fileOf, filesIn, sha256 } from './helpers.js';

export interface OpenedStores {
	chat: ChatStore;
	uploads: UploadStore;
	/** Another upload store on the same database, with its own connection (another process, say). */
	another(): Promise<UploadStore>;
	/** Close everything opened and drop the database. */
	close(): Promise<void>;
}

const NO_QUOTA = { sinceMs: 0, maxBytes: Number.MAX_SAFE_INTEGER };
const staging = mkdtempSync(join(tmpdir(), 'outbox-upload-contract-'));
afterAll(() => rmSync(staging, { recursive: true, force: true }));

/** A body received the way the server receives one. */
export function stage(bytes: Buffer, type: UploadType = 'image/png'): Promise<StagedFile> {
	return stageUpload(Readable.from([bytes]), { dir: staging, type, maxBytes: 64 * 1024 * 1024, idleTimeoutMs: 5000 });
}

async function readAll(stream: Readable): Promise<Buffer> {
	const chunks: Buffer[] = [];
	for await (const chunk of stream) chunks.push(chunk as Buffer);
	return Buffer.concat(chunks);
}

const sendWith = (client_id: string, attachments: string[]): Action => ({
	type: 'send_message',
	client_id,
	payload: { client_id, body: '', attachments }
});

export function describeUploadStoreContract(name: string, open: () => Promise<OpenedStores>): void {
	describe(`UploadStore contract: ${name}`, () => {
		let stores: OpenedStores;
		let uploads: UploadStore;
		let ada: User;
		let bob: User;
		const extra: UploadStore[] = [];

		beforeEach(async () => {
			stores = await open();
			uploads = stores.uploads;
			ada = (await stores.chat.createUser('Ada', 'h')).user;
			bob = (await stores.chat.createUser('Bob', 'h')).user;
		});
		afterEach(async () => {
			await Promise.all(extra.splice(0).map((s) => s.close()));
			await stores.close();
		});

		const record = (owner: User, key: string, createdAt = Date.now()): NewUpload => ({
			id: randomId(24),
			ownerId: owner.id,
			key,
			name: `${key}.png`,
			type: 'image/png',
			createdAt
		});

		async function store(owner: User, key: string, bytes = fileOf('image/png', 500), createdAt?: number): Promise<UploadRecord> {
			const outcome = await uploads.commit(await stage(bytes), record(owner, key, createdAt), NO_QUOTA);
			if (outcome.status !== 'created') throw new Error(`expected created, got ${outcome.status}`);
			return outcome.upload;
		}

		it('keeps a file: the record by id and by key, the exact bytes, and the staged file taken over', async () => {
			const bytes = fileOf('image/png', 3 * 1024 * 1024 + 17); // several chunks, the last one short
			const staged = await stage(bytes);
			const meta = record(ada, 'k1');
			const outcome = await uploads.commit(staged, meta, NO_QUOTA);
			const expected = { ...meta, size: bytes.length, sha256: sha256(bytes) };
			expect(outcome).toEqual({ status: 'created', upload: expected });
			expect(await uploads.findById(meta.id)).toEqual(expected);
			expect(await uploads.findByKey(ada.id, 'k1')).toEqual(expected);
			expect(await uploads.findByKey(bob.id, 'k1')).toBeNull();
			expect(sha256(await readAll(uploads.read(expected)))).toBe(sha256(bytes));
			expect(filesIn(staging)).toEqual([]);
		});

		it('answers a key stored already with the existing upload, storing nothing new', async () => {
			const first = await store(ada, 'same');
			const before = await uploads.quotaUse(ada.id, 0);
			const again = await uploads.commit(await stage(fileOf('image/png', 900)), record(ada, 'same'), NO_QUOTA);
			expect(again).toEqual({ status: 'existing', upload: first });
			expect(await uploads.quotaUse(ada.id, 0)).toEqual(before);
			expect(filesIn(staging)).toEqual([]);
		});

		it('counts bytes per owner in the window, and refuses a file that would pass the quota', async () => {
			const t0 = 1_000_000;
			await store(ada, 'old', fileOf('image/png', 400), t0);
			await store(ada, 'new', fileOf('image/png', 600), t0 + 10);
			await store(bob, 'bobs', fileOf('image/png', 700), t0 + 10);
			expect(await uploads.quotaUse(ada.id, t0)).toEqual({ bytes: 1000, oldestAt: t0 });
			expect(await uploads.quotaUse(ada.id, t0 + 1)).toEqual({ bytes: 600, oldestAt: t0 + 10 });
			expect(await uploads.quotaUse('nobody', 0)).toEqual({ bytes: 0, oldestAt: null });

			const quota = { sinceMs: t0, maxBytes: 1500 };
			const over = await uploads.commit(await stage(fileOf('image/png', 501)), record(ada, 'over', t0 + 20), quota);
			expect(over).toEqual({ status: 'over_quota', use: { bytes: 1000, oldestAt: t0 } });
			expect(await uploads.findByKey(ada.id, 'over')).toBeNull();
			const fits = await uploads.commit(await stage(fileOf('image/png', 500)), record(ada, 'fits', t0 + 20), quota);
			expect(fits.status).toBe('created');
			expect(filesIn(staging)).toEqual([]);
		});

		it('commits one file when two connections store the same key at once', async () => {
			const other = await stores.another();
			extra.push(other);
			const [a, b] = await Promise.all([
				uploads.commit(await stage(fileOf('image/png', 300)), record(ada, 'race'), NO_QUOTA),
				other.commit(await stage(fileOf('image/png', 300)), record(ada, 'race'), NO_QUOTA)
			]);
			expect([a.status, b.status].sort()).toEqual(['created', 'existing']);
			const winner = a.status === 'created' ? a : b;
			const loser = a.status === 'created' ? b : a;
			expect(loser).toEqual({ status: 'existing', upload: (winner as { upload: UploadRecord }).upload });
		});

		it('lets only one of two files in at once when the quota has room for one', async () => {
			const other = await stores.another();
			extra.push(other);
			const quota = { sinceMs: 0, maxBytes: 1000 };
			const outcomes = await Promise.all([
				uploads.commit(await stage(fileOf('image/png', 600)), record(ada, 'q1'), quota),
				other.commit(await stage(fileOf('image/png', 600)), record(ada, 'q2'), quota)
			]);
			expect(outcomes.map((o) => o.status).sort()).toEqual(['created', 'over_quota']);
			expect((await uploads.quotaUse(ada.id, 0)).bytes).toBe(600);
		});

		it('lists the rooms whose messages name an upload, and forgets a deleted message', async () => {
			const file = await store(ada, 'shared');
			expect(await uploads.roomsNaming(file.id)).toEqual([]);
			const { results } = await stores.chat.applyActions(ada, 'lobby', [sendWith('s1', [file.id])]);
			await stores.chat.applyActions(ada, 'other', [sendWith('s2', [file.id])]);
			expect(await uploads.roomsNaming(file.id)).toEqual(['lobby', 'other']);
			const message = (results[0] as { message: { id: string; attachments: unknown } }).message;
			expect(message.attachments).toEqual([{ id: file.id, name: file.name, type: 'image/png', size: file.size }]);
			const remove: Action = { type: 'delete_message', client_id: 'd1', payload: { client_id: 'd1', id: message.id, base_version: 1 } };
			await stores.chat.applyActions(ada, 'lobby', [remove]);
			expect(await uploads.roomsNaming(file.id)).toEqual(['other']);
		});

		it('refuses, through the chat store, a send naming someone else\'s upload', async () => {
			const bobs = await store(bob, 'b');
			const { results, created } = await stores.chat.applyActions(ada, 'lobby', [sendWith('x1', [bobs.id])]);
			expect(results[0]).toMatchObject({ status: 'error', reason: 'invalid' });
			expect(created).toEqual([]);
			expect(await uploads.roomsNaming(bobs.id)).toEqual([]);
		});

		it('removes uploads no message names once old enough, with their bytes, and keeps the rest', async () => {
			const t0 = 5_000_000;
			const orphan = await store(ada, 'orphan', fileOf('image/png', 2000), t0);
			const named = await store(ada, 'named', fileOf('image/png', 2000), t0);
			const young = await store(ada, 'young', fileOf('image/png', 2000), t0 + 100);
			await stores.chat.applyActions(ada, 'lobby', [sendWith('n1', [named.id])]);

			expect(await uploads.removeOrphans(t0 + 100)).toBe(1);
			expect(await uploads.findById(orphan.id)).toBeNull();
			await expect(readAll(uploads.read(orphan))).rejects.toThrow();
			expect(await uploads.findById(named.id)).toEqual(named);
			expect(await uploads.findById(young.id)).toEqual(young);
			expect(sha256(await readAll(uploads.read(named)))).toBe(sha256(fileOf('image/png', 2000)));
			expect(await uploads.removeOrphans(t0 + 100)).toBe(0);
		});
	});
}
