import Database from 'better-sqlite3';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import type { Message } from '../../src/lib/protocol/index.js';
import { createSqliteStore } from '../../src/lib/server/store/sqlite-store.js';
import { MIGRATIONS } from '../../src/lib/server/store/sqlite-migrations.js';
import { describeStoreContract, markRead, messageOf, send, syncAll } from './store-contract.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const tmpRoot = mkdtempSync(join(tmpdir(), 'outbox-store-'));
let fileCount = 0;
const tmpFile = () => join(tmpRoot, `db-${++fileCount}`, 'chat.db');

afterAll(() => rmSync(tmpRoot, { recursive: true, force: true }));

const openConnections = async (count: number) => {
	const file = tmpFile();
	return Array.from({ length: count }, () => createSqliteStore({ file }));
};

describeStoreContract('sqlite file', async () => createSqliteStore({ file: tmpFile() }), { openConnections });
describeStoreContract('sqlite :memory:', async () => createSqliteStore({ file: ':memory:' }), { openConnections });

describe('SQLite store specifics', () => {
	it('creates the directory, uses WAL and records the schema version', async () => {
		const file = join(tmpRoot, 'nested', 'deeper', 'chat.db');
		const store = createSqliteStore({ file });
		await store.close();
		const db = new Database(file, { readonly: true });
		expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
		expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
		db.close();
	});

	it('keeps users, messages and read markers across a reopen', async () => {
		const file = tmpFile();
		const first = createSqliteStore({ file });
		const { user: ada } = await first.createUser('Ada', 'h');
		const { user: bob } = await first.createUser('Bob', 'h');
		await first.applyActions(bob, 'lobby', [send('b1'), send('b2')]);
		await first.applyActions(ada, 'lobby', [markRead('r1', 1)]);
		await first.close();

		const second = createSqliteStore({ file });
		expect((await second.findUserByName('ada'))?.id).toBe(ada.id);
		expect(await second.unreadCount('lobby', ada.id)).toBe(1);
		const replay = await second.applyActions(bob, 'lobby', [send('b1')]);
		expect(messageOf(replay.results[0]).seq).toBe(1);
		expect(replay.created).toEqual([]);
		await second.close();
	});

	it('keeps a send as its message row alone, and replays sends recorded the old way after the upgrade', async () => {
		// A database at schema 2, where every send also wrote an actions row.
		const file = tmpFile();
		mkdirSync(dirname(file), { recursive: true });
		const old = new Database(file);
		old.exec(MIGRATIONS[0]! + MIGRATIONS[1]!);
		old.pragma('user_version = 2');
		const at = '2026-01-01T00:00:00.000Z';
		old.prepare('INSERT INTO users (id, name, name_key, password_hash, created_at) VALUES (?, ?, ?, ?, ?)').run('u1', 'Ada', 'ada', 'h', at);
		old.prepare('INSERT INTO rooms (slug, created_at, last_seq, last_change) VALUES (?, ?, 1, 1)').run('lobby', at);
		old.prepare(
			`INSERT INTO messages (room, author_id, client_id, body, seq, version, deleted, inserted_at, updated_at, change_seq)
			 VALUES ('lobby', 'u1', 'old1', 'from before', 1, 1, 0, ?, ?, 1)`
		).run(at, at);
		const oldReply = { client_id: 'old1', status: 'ok', message: { id: '1', client_id: 'old1', room: 'lobby', author: { id: 'u1', name: 'Ada' }, body: 'from before', seq: 1, version: 1, deleted: false, inserted_at: at, updated_at: at, attachments: [] } };
		old.prepare("INSERT INTO actions (author_id, client_id, room, type, result, created_at) VALUES ('u1', 'old1', 'lobby', 'send_message', ?, ?)").run(JSON.stringify(oldReply), at);
		old.close();

		const store = createSqliteStore({ file });
		const ada = { id: 'u1', name: 'Ada' };
		const replay = await store.applyActions(ada, 'lobby', [send('old1'), send('new1', 'after')]);
		expect(replay.results[0]).toEqual(oldReply);
		expect(replay.created.map((m) => [m.client_id, m.seq])).toEqual([['new1', 2]]);
		const again = await store.applyActions(ada, 'lobby', [send('new1', 'twice')]);
		expect(again.results).toEqual([replay.results[1]]);
		await store.close();

		const db = new Database(file, { readonly: true });
		expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
		expect(db.prepare('SELECT client_id FROM actions ORDER BY client_id').pluck().all()).toEqual(['old1']);
		db.close();
	});

	it('refuses a database written by a newer schema', async () => {
		const file = tmpFile();
		await createSqliteStore({ file }).close();
		const db = new Database(file);
		db.pragma(`user_version = ${MIGRATIONS.length + 1}`);
		db.close();
		expect(() => createSqliteStore({ file })).toThrow(/newer/);
	});

	it('prunes revocations whose token has expired', async () => {
		const file = tmpFile();
		const store = createSqliteStore({ file });
		await store.revokeToken('old', Date.now() - 1000);
		await store.revokeToken('fresh', Date.now() + 60_000);
		expect(await store.isTokenRevoked('old')).toBe(false);
		expect(await store.isTokenRevoked('fresh')).toBe(true);
		await store.close();
		const db = new Database(file, { readonly: true });
		expect(db.prepare('SELECT token_id FROM revoked_tokens').pluck().all()).toEqual(['fresh']);
		db.close();
	});

	it('rejects misuse with errors that say how to call it', async () => {
		expect(() => createSqliteStore({ file: '' })).toThrow(TypeError);
		const store = createSqliteStore({ file: ':memory:' });
		const { user } = await store.createUser('Ada', 'h');
		await expect(store.applyActions(user, 'Not A Slug', [send('a1')])).rejects.toThrow(TypeError);
		await expect(store.createUser('   ', 'h')).rejects.toThrow(TypeError);
		await store.close();
	});

	it('allocates gap-free seqs when 5 worker threads send 200 each to one file at once', async () => {
		const file = tmpFile();
		const setup = createSqliteStore({ file });
		const authors = [];
		for (let i = 0; i < 5; i++) authors.push((await setup.createUser(`worker ${i}`, 'h')).user);
		const storeUrl = compileForWorkers('src/lib/server/store/sqlite-store.ts');

		const workers = authors.map(
			(author, index) => new Worker(WORKER_SOURCE, { eval: true, workerData: { storeUrl, file, author, index, count: 200 } })
		);
		try {
			const done = workers.map(
				(worker) =>
					new Promise<number[]>((resolve, reject) => {
						worker.on('message', (m: { seqs?: number[] }) => m.seqs && resolve(m.seqs));
						worker.on('error', reject);
						worker.on('exit', (code) => reject(new Error(`worker exited with ${code} before reporting`)));
					})
			);
			// Start together, so the writers really contend for the lock.
			await Promise.all(workers.map((w) => new Promise((r) => w.once('message', r))));
			for (const w of workers) w.postMessage('go');
			const perWorker = await Promise.all(done);

			const seqs = perWorker.flat().sort((a, b) => a - b);
			expect(seqs).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
			const state: Message[] = (await syncAll(setup, 'race', authors[0]!.id)).flatMap((p) => p.messages);
			expect(state.map((m) => m.seq)).toEqual(seqs);
			expect(new Set(state.map((m) => `${m.author.id}/${m.client_id}`)).size).toBe(1000);
		} finally {
			await Promise.all(workers.map((w) => w.terminate()));
			await setup.close();
		}
	});
});

/** Each worker opens its own connection, says ready, waits for go, then sends one action per transaction. */
const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const { storeUrl, file, author, index, count } = workerData;
import(storeUrl).then(({ createSqliteStore }) => {
	const store = createSqliteStore({ file });
	parentPort.once('message', async () => {
		const seqs = [];
		for (let i = 0; i < count; i++) {
			const client_id = 'w' + index + '-' + i;
			const { results } = await store.applyActions(author, 'race', [
				{ type: 'send_message', client_id, payload: { client_id, body: client_id } }
			]);
			seqs.push(results[0].message.seq);
		}
		await store.close();
		parentPort.postMessage({ seqs });
	});
	parentPort.postMessage({ ready: true });
});
`;

/**
 * Node 20 cannot load TypeScript in a worker, so transpile the entry and the
 * relative modules it imports at runtime into a temp dir (node_modules linked
 * in, for bare imports). Returns the entry's file URL.
 */
function compileForWorkers(entry: string): string {
	const outDir = join(tmpRoot, 'compiled');
	mkdirSync(outDir, { recursive: true });
	symlinkSync(join(ROOT, 'node_modules'), join(outDir, 'node_modules'), 'dir');
	writeFileSync(join(outDir, 'package.json'), '{"type":"module"}');
	const seen = new Set<string>();
	const visit = (sourcePath: string) => {
		if (seen.has(sourcePath)) return;
		seen.add(sourcePath);
		const { outputText } = ts.transpileModule(readFileSync(sourcePath, 'utf8'), {
			compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
			fileName: sourcePath
		});
		const outPath = join(outDir, relative(ROOT, sourcePath)).replace(/\.ts$/, '.js');
		mkdirSync(dirname(outPath), { recursive: true });
		writeFileSync(outPath, outputText);
		for (const [, spec] of outputText.matchAll(/from\s+'(\.{1,2}\/[^']+)\.js'/g)) {
			visit(resolve(dirname(sourcePath), `${spec}.ts`));
		}
	};
	visit(join(ROOT, entry));
	return pathToFileURL(join(outDir, entry.replace(/\.ts$/, '.js'))).href;
}
