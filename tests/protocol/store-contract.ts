/**
 * The contract every `ChatStore` implementation passes (SQLite now,
 * PostgreSQL later). It talks to the port only.
 *
 * @example
 * describeStoreContract('sqlite', async () => createSqliteStore({ file: tmpFile() }), {
 *   openConnections: async (n) => { const file = tmpFile(); return Array.from({ length: n }, () => createSqliteStore({ file })); }
 * });
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Action, Message, User } from '../../src/lib/protocol/index.js';
import {
	InvalidCursorError,
	type ActionResult,
	type ApplyOutcome,
	type ChatStore,
	type SyncPage
} from '../../src/lib/server/store/port.js';

export interface StoreContractOptions {
	/**
	 * Open `count` stores on one fresh, empty database, each with its own
	 * connection, for the concurrency test. The test closes them.
	 */
	openConnections: (count: number) => Promise<ChatStore[]>;
	/** Runs after each test, once the test's stores are closed (drop files, schemas...). */
	cleanup?: () => Promise<void>;
}

export const send = (client_id: string, body = `body of ${client_id}`): Action => ({
	type: 'send_message',
	client_id,
	payload: { client_id, body }
});
export const edit = (client_id: string, id: string, body: string, base_version: number): Action => ({
	type: 'edit_message',
	client_id,
	payload: { client_id, id, body, base_version }
});
export const remove = (client_id: string, id: string, base_version: number): Action => ({
	type: 'delete_message',
	client_id,
	payload: { client_id, id, base_version }
});
export const markRead = (client_id: string, seq: number): Action => ({
	type: 'mark_read',
	client_id,
	payload: { client_id, seq }
});

/** The message of an ok send/edit/delete result; throws (failing the test) on anything else. */
export function messageOf(result: ActionResult | undefined): Message {
	if (result?.status !== 'ok' || !('message' in result)) {
		throw new Error(`expected an ok result with a message, got ${JSON.stringify(result)}`);
	}
	return result.message;
}

/** Sync until `complete`, returning every page. */
export async function syncAll(
	store: ChatStore,
	room: string,
	userId: string,
	since: string | null = null,
	limit = 500
): Promise<SyncPage[]> {
	const pages: SyncPage[] = [];
	let cursor = since;
	for (let i = 0; i < 1000; i++) {
		const page = await store.sync(room, userId, cursor, limit);
		pages.push(page);
		if (page.complete) return pages;
		cursor = page.cursor;
	}
	throw new Error('sync never completed');
}

const MESSAGE_KEYS = [
	'attachments',
	'author',
	'body',
	'client_id',
	'deleted',
	'id',
	'inserted_at',
	'room',
	'seq',
	'updated_at',
	'version'
];
const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export function describeStoreContract(
	name: string,
	makeStore: () => Promise<ChatStore>,
	options: StoreContractOptions
): void {
	describe(`ChatStore contract: ${name}`, () => {
		let store: ChatStore;
		let ada: User;
		let bob: User;
		const extraStores: ChatStore[] = [];

		beforeEach(async () => {
			store = await makeStore();
			ada = (await store.createUser('Ada', 'hash-ada')).user;
			bob = (await store.createUser('Bob', 'hash-bob')).user;
		});
		afterEach(async () => {
			await store.close();
			await Promise.all(extraStores.splice(0).map((s) => s.close()));
			await options.cleanup?.();
		});

		/** Send `count` messages by `author` in `room` (ids c1..cN unless a prefix is given). */
		async function sendMany(author: User, room: string, count: number, prefix = 'c'): Promise<Message[]> {
			const messages: Message[] = [];
			for (let start = 0; start < count; start += 100) {
				const actions = Array.from({ length: Math.min(100, count - start) }, (_, i) =>
					send(`${prefix}${start + i + 1}`)
				);
				const { results } = await store.applyActions(author, room, actions);
				messages.push(...results.map(messageOf));
			}
			return messages;
		}

		async function roomState(room: string, userId = ada.id): Promise<Message[]> {
			return (await syncAll(store, room, userId)).flatMap((p) => p.messages);
		}

		describe('users', () => {
			it('creates a user with a short lowercase id and the trimmed display name', async () => {
				const { user, created } = await store.createUser('  Grace Hopper ', 'scrypt$x');
				expect(created).toBe(true);
				expect(user.id).toMatch(/^[a-z0-9]{1,32}$/);
				expect(user.name).toBe('Grace Hopper');
				expect(user.passwordHash).toBe('scrypt$x');
				expect(Number.isNaN(Date.parse(user.createdAt))).toBe(false);
				expect(await store.findUserById(user.id)).toEqual(user);
			});

			it('finds users by name case-insensitively and ignores surrounding space', async () => {
				expect((await store.findUserByName('ADA'))?.id).toBe(ada.id);
				expect((await store.findUserByName(' ada '))?.name).toBe('Ada');
				expect(await store.findUserByName('Ad')).toBeNull();
				expect(await store.findUserById('nosuchuser')).toBeNull();
			});

			it('returns the existing account with created:false when the name is taken', async () => {
				const again = await store.createUser('ADA ', 'other-hash');
				expect(again.created).toBe(false);
				expect(again.user.id).toBe(ada.id);
				expect(again.user.name).toBe('Ada');
				expect(again.user.passwordHash).toBe('hash-ada');
			});

			it('creates one account when two first sign-ins race', async () => {
				const [a, b] = await Promise.all([
					store.createUser('Linus', 'h1'),
					store.createUser('linus', 'h2')
				]);
				expect([a.created, b.created].sort()).toEqual([false, true]);
				expect(a.user.id).toBe(b.user.id);
			});

			it('gives every user a distinct id', async () => {
				const ids = new Set<string>([ada.id, bob.id]);
				for (let i = 0; i < 50; i++) ids.add((await store.createUser(`user ${i}`, 'h')).user.id);
				expect(ids.size).toBe(52);
			});
		});

		describe('revoked tokens', () => {
			it('reports a revoked token until its expiry, and only that token', async () => {
				expect(await store.isTokenRevoked('tok-1')).toBe(false);
				await store.revokeToken('tok-1', Date.now() + 60_000);
				await store.revokeToken('tok-1', Date.now() + 60_000);
				expect(await store.isTokenRevoked('tok-1')).toBe(true);
				expect(await store.isTokenRevoked('tok-2')).toBe(false);
			});
		});

		describe('send_message', () => {
			it('gives seq 1, 2, 3 with version 1 and exactly the contract fields', async () => {
				const { results, created, updated } = await store.applyActions(ada, 'lobby', [
					send('a1', 'one'),
					send('a2', 'two'),
					send('a3', 'three')
				]);
				const messages = results.map(messageOf);
				expect(messages.map((m) => m.seq)).toEqual([1, 2, 3]);
				expect(new Set(messages.map((m) => m.id)).size).toBe(3);
				for (const m of messages) {
					expect(Object.keys(m).sort()).toEqual(MESSAGE_KEYS);
					expect(m).toMatchObject({ room: 'lobby', author: { id: ada.id, name: 'Ada' }, version: 1, deleted: false, attachments: [] });
					expect(m.inserted_at).toMatch(ISO_RE);
					expect(m.updated_at).toBe(m.inserted_at);
				}
				expect(messages.map((m) => [m.client_id, m.body])).toEqual([
					['a1', 'one'],
					['a2', 'two'],
					['a3', 'three']
				]);
				expect(results.map((r) => [r.client_id, r.status])).toEqual([
					['a1', 'ok'],
					['a2', 'ok'],
					['a3', 'ok']
				]);
				expect(created).toEqual(messages);
				expect(updated).toEqual([]);
			});

			it('numbers each room on its own', async () => {
				await store.applyActions(ada, 'lobby', [send('a1'), send('a2')]);
				const { results } = await store.applyActions(bob, 'other', [send('b1')]);
				expect(messageOf(results[0]).seq).toBe(1);
				const [more] = (await store.applyActions(bob, 'lobby', [send('b2')])).results;
				expect(messageOf(more).seq).toBe(3);
			});
		});

		describe('attachments', () => {
			it('gives every message an attachments list, empty when none, in replies, sync and history', async () => {
				const [sent] = await sendMany(ada, 'lobby', 1);
				const { results } = await store.applyActions(ada, 'lobby', [edit('e1', sent!.id, 'edited', 1)]);
				expect(messageOf(results[0]).attachments).toEqual([]);
				for (const m of await roomState('lobby')) expect(Object.keys(m).sort()).toEqual(MESSAGE_KEYS);
				const { messages } = await store.history('lobby', null, 10);
				expect(messages.map((m) => m.attachments)).toEqual([[]]);
			});

			it('refuses a send naming an upload that is not the sender\'s as invalid, keeps nothing, and frees the client_id', async () => {
				const withFile: Action = {
					type: 'send_message',
					client_id: 'f1',
					payload: { client_id: 'f1', body: 'see file', attachments: ['nosuchupload'] }
				};
				const { results, created } = await store.applyActions(ada, 'lobby', [withFile, send('a2')]);
				expect(results[0]).toMatchObject({ client_id: 'f1', status: 'error', reason: 'invalid' });
				expect((results[0] as { message?: string }).message).toMatch(/nosuchupload.*not one of your uploads/);
				// The refused send used no seq: the next one is 1.
				expect(created.map((m) => [m.client_id, m.seq])).toEqual([['a2', 1]]);
				const retry = await store.applyActions(ada, 'lobby', [send('f1', 'without the file')]);
				expect(messageOf(retry.results[0]).seq).toBe(2);
			});
		});

		describe('idempotency', () => {
			it('replays a lost ack without creating a duplicate', async () => {
				const first = await store.applyActions(ada, 'lobby', [send('a1', 'hello')]);
				const again = await store.applyActions(ada, 'lobby', [send('a1', 'a different body')]);
				expect(again.results).toEqual(first.results);
				expect(again.created).toEqual([]);
				const state = await roomState('lobby');
				expect(state.map((m) => [m.client_id, m.body])).toEqual([['a1', 'hello']]);
			});

			it('replays a whole batch, and a batch that mixes replays with new actions', async () => {
				const first = await store.applyActions(ada, 'lobby', [send('a1'), send('a2')]);
				const replay = await store.applyActions(ada, 'lobby', [send('a1'), send('a2')]);
				expect(replay.results).toEqual(first.results);
				expect(replay.created).toEqual([]);

				const mixed = await store.applyActions(ada, 'lobby', [send('a2'), send('a3'), send('a1')]);
				expect(mixed.results[0]).toEqual(first.results[1]);
				expect(mixed.results[2]).toEqual(first.results[0]);
				expect(messageOf(mixed.results[1]).seq).toBe(3);
				expect(mixed.created.map((m) => m.client_id)).toEqual(['a3']);
				expect((await roomState('lobby')).map((m) => m.seq)).toEqual([1, 2, 3]);
			});

			it('treats a client_id repeated inside one batch as a replay', async () => {
				const { results, created } = await store.applyActions(ada, 'lobby', [send('a1', 'x'), send('a1', 'y')]);
				expect(results[1]).toEqual(results[0]);
				expect(created).toHaveLength(1);
				expect(await roomState('lobby')).toHaveLength(1);
			});

			it('keeps the same client_id from different authors apart', async () => {
				const a = await store.applyActions(ada, 'lobby', [send('same')]);
				const b = await store.applyActions(bob, 'lobby', [send('same')]);
				expect(messageOf(b.results[0]).seq).toBe(2);
				expect(messageOf(b.results[0]).author.id).toBe(bob.id);
				expect(messageOf(a.results[0]).id).not.toBe(messageOf(b.results[0]).id);
			});

			it('returns the first outcome when a client_id comes back in another room or as another type', async () => {
				const first = await store.applyActions(ada, 'lobby', [send('a1')]);
				const other = await store.applyActions(ada, 'elsewhere', [markRead('a1', 0), send('a1')]);
				expect(other.results).toEqual([first.results[0], first.results[0]]);
				expect(other.created).toEqual([]);
				expect(await roomState('elsewhere')).toEqual([]);
				expect(await store.roomsForUser(ada.id)).toEqual([{ slug: 'lobby', unread_count: 0, last_seq: 1 }]);
			});

			it('replays an edit with its original reply, not the current state', async () => {
				const m = messageOf((await store.applyActions(ada, 'lobby', [send('a1', 'v1')])).results[0]);
				const firstEdit = await store.applyActions(ada, 'lobby', [edit('e1', m.id, 'v2', 1)]);
				await store.applyActions(ada, 'lobby', [edit('e2', m.id, 'v3', 2)]);
				const replay = await store.applyActions(ada, 'lobby', [edit('e1', m.id, 'v2', 1)]);
				expect(replay.results).toEqual(firstEdit.results);
				expect(messageOf(replay.results[0])).toMatchObject({ version: 2, body: 'v2' });
				expect(replay.updated).toEqual([]);
				expect((await roomState('lobby'))[0]).toMatchObject({ version: 3, body: 'v3' });
			});

			it('replays a send with its original reply after the message was edited and deleted', async () => {
				const first = await store.applyActions(ada, 'lobby', [send('a1', 'v1'), send('a2', 'kept')]);
				const [m1, m2] = first.results.map(messageOf);
				await store.applyActions(ada, 'lobby', [edit('e1', m1!.id, 'v2', 1)]);
				await store.applyActions(ada, 'lobby', [send('a3'), remove('d1', m1!.id, 2)]);
				const replay = await store.applyActions(ada, 'lobby', [send('a1', 'other'), send('a2'), edit('e1', m1!.id, 'v2', 1)]);
				expect(replay.results.slice(0, 2)).toEqual(first.results);
				expect(messageOf(replay.results[0])).toMatchObject({ id: m1!.id, seq: 1, version: 1, body: 'v1', deleted: false });
				expect(messageOf(replay.results[1])).toEqual(m2);
				expect(messageOf(replay.results[2])).toMatchObject({ id: m1!.id, version: 2, body: 'v2' });
				expect(replay.created).toEqual([]);
				expect(replay.updated).toEqual([]);
				expect((await roomState('lobby')).map((m) => [m.seq, m.version, m.deleted, m.body])).toEqual([
					[1, 3, true, ''],
					[2, 1, false, 'kept'],
					[3, 1, false, 'body of a3']
				]);
			});
		});

		describe('edit_message and delete_message', () => {
			let original: Message;
			beforeEach(async () => {
				const { results } = await store.applyActions(ada, 'lobby', [send('a1', 'first'), send('a2', 'second')]);
				original = messageOf(results[0]);
			});

			it('edits: body changed, version 2, same seq and id, reported as updated', async () => {
				const { results, created, updated } = await store.applyActions(ada, 'lobby', [
					edit('e1', original.id, 'first, edited', 1)
				]);
				const m = messageOf(results[0]);
				expect(m).toMatchObject({ id: original.id, seq: 1, version: 2, body: 'first, edited', deleted: false });
				expect(m.client_id).toBe('a1');
				expect(m.inserted_at).toBe(original.inserted_at);
				expect(m.updated_at >= original.updated_at).toBe(true);
				expect(created).toEqual([]);
				expect(updated).toEqual([m]);
				expect((await roomState('lobby'))[0]).toEqual(m);
			});

			it('refuses an edit by someone else with forbidden, and keeps refusing on replay', async () => {
				const { results } = await store.applyActions(bob, 'lobby', [edit('b1', original.id, 'mine now', 1)]);
				expect(results[0]).toMatchObject({ client_id: 'b1', status: 'error', reason: 'forbidden' });
				const replay = await store.applyActions(bob, 'lobby', [edit('b1', original.id, 'mine now', 1)]);
				expect(replay.results).toEqual(results);
				const del = await store.applyActions(bob, 'lobby', [remove('b2', original.id, 1)]);
				expect(del.results[0]).toMatchObject({ status: 'error', reason: 'forbidden' });
				expect((await roomState('lobby'))[0]).toEqual(original);
			});

			it('refuses a stale base_version with conflict, and the replay stays a conflict', async () => {
				await store.applyActions(ada, 'lobby', [edit('e1', original.id, 'v2', 1)]);
				const stale = await store.applyActions(ada, 'lobby', [edit('e2', original.id, 'from v1', 1)]);
				expect(stale.results[0]).toMatchObject({ client_id: 'e2', status: 'error', reason: 'conflict' });
				expect(stale.results[0]).toHaveProperty('message', expect.stringMatching(/version/));
				expect(stale.updated).toEqual([]);
				// The same client_id with a now-current base_version is still the first outcome.
				const replay = await store.applyActions(ada, 'lobby', [edit('e2', original.id, 'from v2', 2)]);
				expect(replay.results).toEqual(stale.results);
				expect((await roomState('lobby'))[0]).toMatchObject({ version: 2, body: 'v2' });
			});

			it('deletes: deleted true, body emptied, version + 1, same seq', async () => {
				const { results, updated } = await store.applyActions(ada, 'lobby', [remove('d1', original.id, 1)]);
				const m = messageOf(results[0]);
				expect(m).toMatchObject({ id: original.id, seq: 1, version: 2, deleted: true, body: '' });
				expect(updated).toEqual([m]);
				expect((await roomState('lobby'))[0]).toEqual(m);
			});

			it('refuses edits and deletes after a delete with conflict', async () => {
				await store.applyActions(ada, 'lobby', [remove('d1', original.id, 1)]);
				const { results } = await store.applyActions(ada, 'lobby', [
					edit('e1', original.id, 'too late', 2),
					remove('d2', original.id, 2)
				]);
				expect(results.map((r) => r.status === 'error' && r.reason)).toEqual(['conflict', 'conflict']);
				expect(results[0]).toHaveProperty('message', expect.stringMatching(/deleted/));
			});

			it('answers invalid for an id that is not in this room, and does not keep that outcome', async () => {
				const elsewhere = messageOf((await store.applyActions(ada, 'other', [send('o1')])).results[0]);
				const { results } = await store.applyActions(ada, 'lobby', [
					edit('x1', 'does-not-exist', 'b', 1),
					edit('x2', elsewhere.id, 'b', 1),
					remove('x3', '999999999', 1)
				]);
				expect(results.map((r) => r.status === 'error' && r.reason)).toEqual(['invalid', 'invalid', 'invalid']);
				// Not stored: the client_id is still free for a real action.
				const retry = await store.applyActions(ada, 'lobby', [edit('x1', original.id, 'real', 1)]);
				expect(messageOf(retry.results[0]).body).toBe('real');
				expect((await roomState('other'))[0]).toEqual(elsewhere);
			});
		});

		describe('mark_read and unread counts', () => {
			it("counts others' non-deleted messages above the marker, which never goes backwards", async () => {
				await sendMany(bob, 'lobby', 5, 'b');
				const mine = messageOf((await store.applyActions(ada, 'lobby', [send('a1')])).results[0]);
				expect(mine.seq).toBe(6);
				expect(await store.unreadCount('lobby', ada.id)).toBe(5);
				expect(await store.unreadCount('lobby', bob.id)).toBe(1);

				const r1 = await store.applyActions(ada, 'lobby', [markRead('r1', 3)]);
				expect(r1.results).toEqual([{ client_id: 'r1', status: 'ok', unread_count: 2 }]);
				const r2 = await store.applyActions(ada, 'lobby', [markRead('r2', 1)]);
				expect(r2.results).toEqual([{ client_id: 'r2', status: 'ok', unread_count: 2 }]);

				const b5 = (await roomState('lobby')).find((m) => m.seq === 5)!;
				await store.applyActions(bob, 'lobby', [remove('bd', b5.id, 1)]);
				expect(await store.unreadCount('lobby', ada.id)).toBe(1);
				expect((await store.sync('lobby', ada.id, null, 10)).unread_count).toBe(1);
			});

			it('replays mark_read with its stored unread_count', async () => {
				await sendMany(bob, 'lobby', 3, 'b');
				const first = await store.applyActions(ada, 'lobby', [markRead('r1', 1)]);
				await sendMany(bob, 'lobby', 2, 'more');
				const replay = await store.applyActions(ada, 'lobby', [markRead('r1', 1)]);
				expect(replay.results).toEqual(first.results);
				expect(await store.unreadCount('lobby', ada.id)).toBe(4);
			});

			it('does not let a marker past the last seq hide later messages', async () => {
				await sendMany(bob, 'lobby', 2, 'b');
				await store.applyActions(ada, 'lobby', [markRead('r1', 1_000)]);
				expect(await store.unreadCount('lobby', ada.id)).toBe(0);
				await sendMany(bob, 'lobby', 1, 'later');
				expect(await store.unreadCount('lobby', ada.id)).toBe(1);
			});

			it('lists the rooms a user posted in or read, with unread counts and last seq', async () => {
				await sendMany(ada, 'alpha', 2, 'a');
				await sendMany(bob, 'alpha', 3, 'b');
				await sendMany(bob, 'beta', 4, 'c');
				await store.applyActions(ada, 'beta', [markRead('r1', 1)]);
				await sendMany(bob, 'gamma', 1, 'd');
				const rooms = await store.roomsForUser(ada.id);
				expect([...rooms].sort((x, y) => x.slug.localeCompare(y.slug))).toEqual([
					{ slug: 'alpha', unread_count: 3, last_seq: 5 },
					{ slug: 'beta', unread_count: 3, last_seq: 4 }
				]);
				expect(await store.roomsForUser('nobody')).toEqual([]);
			});
		});

		describe('sync', () => {
			it('answers a room that does not exist yet with an empty, complete page and a usable cursor', async () => {
				const page = await store.sync('nowhere', ada.id, null, 50);
				expect(page).toMatchObject({ messages: [], unread_count: 0, complete: true });
				expect(page.cursor).toMatch(/^[A-Za-z0-9._-]{1,100}$/);
				await store.applyActions(bob, 'nowhere', [send('b1')]);
				const next = await store.sync('nowhere', ada.id, page.cursor, 50);
				expect(next.messages.map((m) => m.client_id)).toEqual(['b1']);
				expect(next.unread_count).toBe(1);
			});

			it('lists the whole room from null in seq order with the latest state', async () => {
				const sent = await sendMany(ada, 'lobby', 5);
				await store.applyActions(ada, 'lobby', [
					edit('e1', sent[3]!.id, 'four, edited', 1),
					remove('d1', sent[0]!.id, 1)
				]);
				const [page] = await syncAll(store, 'lobby', bob.id);
				expect(page!.messages.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
				expect(page!.messages[0]).toMatchObject({ deleted: true, body: '', version: 2 });
				expect(page!.messages[3]).toMatchObject({ body: 'four, edited', version: 2 });
				expect(page!.unread_count).toBe(4);
				expect(page!.cursor).toMatch(/^[A-Za-z0-9._-]{1,100}$/);
			});

			it('pages 1,200 messages as 500/500/200, each exactly once, in seq order', async () => {
				await sendMany(ada, 'big', 1200);
				const pages = await syncAll(store, 'big', bob.id, null, 500);
				expect(pages.map((p) => p.messages.length)).toEqual([500, 500, 200]);
				expect(pages.map((p) => p.complete)).toEqual([false, false, true]);
				const seqs = pages.flatMap((p) => p.messages.map((m) => m.seq));
				expect(seqs).toEqual(Array.from({ length: 1200 }, (_, i) => i + 1));
				for (const p of pages) expect(p.cursor).toMatch(/^[A-Za-z0-9._-]{1,100}$/);
				const after = await store.sync('big', bob.id, pages.at(-1)!.cursor, 500);
				expect(after).toMatchObject({ messages: [], complete: true, cursor: pages.at(-1)!.cursor });
			});

			it('returns edits, deletions and new messages after a cursor, latest state once each, in change order', async () => {
				const [m1, m2, m3] = await sendMany(ada, 'lobby', 3);
				const { cursor } = (await syncAll(store, 'lobby', bob.id)).at(-1)!;
				await store.applyActions(ada, 'lobby', [
					edit('e1', m2!.id, 'two v2', 1),
					remove('d1', m1!.id, 1),
					edit('e2', m2!.id, 'two v3', 2),
					send('a4', 'four')
				]);
				const pages = await syncAll(store, 'lobby', bob.id, cursor);
				const changed = pages.flatMap((p) => p.messages);
				expect(changed.map((m) => [m.seq, m.version, m.body, m.deleted])).toEqual([
					[1, 2, '', true],
					[2, 3, 'two v3', false],
					[4, 1, 'four', false]
				]);
				expect(changed.some((m) => m.id === m3!.id)).toBe(false);
				const rest = await store.sync('lobby', bob.id, pages.at(-1)!.cursor, 10);
				expect(rest).toMatchObject({ messages: [], complete: true });
			});

			it('pages changes after a cursor with complete false until the last page', async () => {
				const sent = await sendMany(ada, 'lobby', 7);
				const { cursor } = (await syncAll(store, 'lobby', bob.id)).at(-1)!;
				await store.applyActions(
					ada,
					'lobby',
					sent.map((m, i) => edit(`e${i}`, m.id, `edited ${i}`, 1))
				);
				const pages = await syncAll(store, 'lobby', bob.id, cursor, 3);
				expect(pages.map((p) => [p.messages.length, p.complete])).toEqual([
					[3, false],
					[3, false],
					[1, true]
				]);
				expect(pages.flatMap((p) => p.messages.map((m) => m.seq))).toEqual([1, 2, 3, 4, 5, 6, 7]);
			});

			it('ends a sync run that overlapped changes with the room as it is now', async () => {
				const sent = await sendMany(ada, 'lobby', 5);
				const first = await store.sync('lobby', bob.id, null, 2);
				expect(first.complete).toBe(false);
				await store.applyActions(ada, 'lobby', [
					edit('e1', sent[0]!.id, 'one v2', 1),
					edit('e4', sent[3]!.id, 'four v2', 1),
					send('a6', 'six')
				]);
				const pages = [first, ...(await syncAll(store, 'lobby', bob.id, first.cursor, 2))];
				expect(pages.at(-1)!.complete).toBe(true);
				const merged = new Map<string, Message>();
				const delivered = pages.flatMap((p) => p.messages.map((m) => `${m.id}@${m.version}`));
				// Once per run: a message comes again only when it has changed since.
				expect(new Set(delivered).size).toBe(delivered.length);
				for (const page of pages) for (const m of page.messages) merged.set(m.id, m);
				const now = await roomState('lobby', bob.id);
				expect([...merged.values()].sort((a, b) => a.seq - b.seq)).toEqual(now);
				expect(now.map((m) => m.version)).toEqual([2, 1, 1, 2, 1, 1]);
			});

			it('throws InvalidCursorError for a cursor it never gave', async () => {
				await sendMany(ada, 'lobby', 3);
				for (const bad of ['garbage', 'c.', 'c.abc', '..', 'c.1.2.3.4', 's', 'x.1']) {
					await expect(store.sync('lobby', ada.id, bad, 10), bad).rejects.toBeInstanceOf(InvalidCursorError);
				}
			});

			it('throws InvalidCursorError for a cursor beyond the room', async () => {
				await sendMany(ada, 'busy', 20);
				const { cursor } = (await syncAll(store, 'busy', ada.id)).at(-1)!;
				await sendMany(ada, 'quiet', 2);
				await expect(store.sync('quiet', ada.id, cursor, 10)).rejects.toBeInstanceOf(InvalidCursorError);
				await expect(store.sync('never-used', ada.id, cursor, 10)).rejects.toBeInstanceOf(InvalidCursorError);
				const error = await store.sync('quiet', ada.id, cursor, 10).catch((e: unknown) => e);
				expect(error).toMatchObject({ reason: 'invalid' });
			});
		});

		describe('history', () => {
			it('returns the messages just below before, ascending, and the current cursor', async () => {
				await sendMany(ada, 'lobby', 10);
				const newest = await store.history('lobby', null, 3);
				expect(newest.messages.map((m) => m.seq)).toEqual([8, 9, 10]);
				const older = await store.history('lobby', 8, 3);
				expect(older.messages.map((m) => m.seq)).toEqual([5, 6, 7]);
				const oldest = await store.history('lobby', 3, 200);
				expect(oldest.messages.map((m) => m.seq)).toEqual([1, 2]);
				expect((await store.history('lobby', 1, 5)).messages).toEqual([]);
				expect(newest.cursor).toBe((await syncAll(store, 'lobby', ada.id)).at(-1)!.cursor);
			});

			it('gives a cursor that syncs forward from there', async () => {
				const sent = await sendMany(ada, 'lobby', 4);
				const { cursor } = await store.history('lobby', null, 2);
				await store.applyActions(ada, 'lobby', [send('a5'), edit('e1', sent[1]!.id, 'two v2', 1)]);
				const page = await store.sync('lobby', ada.id, cursor, 50);
				expect(page.messages.map((m) => [m.seq, m.version])).toEqual([
					[5, 1],
					[2, 2]
				]);
				expect((await store.history('nowhere', null, 5)).messages).toEqual([]);
			});

			it('rejects limits outside 1–200 and sync limits outside 1–500', async () => {
				await expect(store.history('lobby', null, 0)).rejects.toThrow();
				await expect(store.history('lobby', null, 201)).rejects.toThrow();
				await expect(store.sync('lobby', ada.id, null, 501)).rejects.toThrow();
				await expect(store.sync('lobby', ada.id, null, 0)).rejects.toThrow();
			});
		});

		describe('transactions and concurrency', () => {
			it('applies a batch of 100 actions with results in order and consecutive seqs', async () => {
				await sendMany(bob, 'lobby', 1, 'b');
				const actions = Array.from({ length: 100 }, (_, i) => send(`a${i}`));
				const { results, created } = await store.applyActions(ada, 'lobby', actions);
				expect(results.map((r) => r.client_id)).toEqual(actions.map((a) => a.client_id));
				expect(results.map((r) => messageOf(r).seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 2));
				expect(created).toHaveLength(100);
			});

			it('applies a batch all or nothing: a fault halfway leaves no message and no idempotency record', async () => {
				const bogus = { type: 'bogus', client_id: 'z', payload: {} } as unknown as Action;
				const actions = [...Array.from({ length: 49 }, (_, i) => send(`a${i}`)), bogus, send('after')];
				await expect(store.applyActions(ada, 'lobby', actions)).rejects.toThrow(/unknown action type/);
				expect(await roomState('lobby')).toEqual([]);
				const { created } = await store.applyActions(ada, 'lobby', actions.slice(0, 49));
				expect(created.map((m) => m.seq)).toEqual(Array.from({ length: 49 }, (_, i) => i + 1));
			});

			it('keeps calls made at once apart: a faulting call leaves nothing, the calls around it stand', async () => {
				const bogus = { type: 'bogus', client_id: 'z', payload: {} } as unknown as Action;
				// Made in one tick, so a store that groups commits puts them in one transaction.
				const calls = [
					store.applyActions(ada, 'lobby', [send('a1'), send('a2')]),
					store.applyActions(bob, 'lobby', [send('b1'), bogus]),
					store.applyActions(bob, 'other', [send('b2')]),
					store.applyActions(ada, 'lobby', [send('a3')])
				];
				const settled = await Promise.allSettled(calls);
				expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
				// The faulting call hears its own error.
				expect(String((settled[1] as PromiseRejectedResult).reason)).toMatch(/unknown action type "bogus"/);
				const ok = (i: number) => (settled[i] as PromiseFulfilledResult<ApplyOutcome>).value;
				// Calls made at once may commit in either order (PostgreSQL runs them on several connections):
				// each call's own messages stay together and in order, and the room's seqs have no gap.
				const first = ok(0).results.map((r) => messageOf(r).seq);
				const third = ok(3).results.map((r) => messageOf(r).seq);
				expect(first[1]).toBe(first[0]! + 1);
				expect([...first, ...third].sort()).toEqual([1, 2, 3]);
				expect(ok(2).results.map((r) => messageOf(r).seq)).toEqual([1]);
				const lobby = (await roomState('lobby')).map((m) => m.client_id);
				expect(lobby.filter((id) => id !== 'a3')).toEqual(['a1', 'a2']);
				expect(lobby).toHaveLength(3);
				// b1 left no idempotency record: sent again, it is a new message after a3.
				const again = await store.applyActions(bob, 'lobby', [send('b1')]);
				expect(again.created.map((m) => m.seq)).toEqual([4]);
			});

			it('allocates gap-free seqs when 5 connections interleave 1,000 sends to one room', async () => {
				const stores = await options.openConnections(5);
				extraStores.push(...stores);
				const users = await Promise.all(stores.map((s, i) => s.createUser(`writer ${i}`, 'h')));
				const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
				const replies = await Promise.all(
					stores.map(async (s, w) => {
						const seqs: number[] = [];
						for (let i = 0; i < 200; i++) {
							const { results } = await s.applyActions(users[w]!.user, 'race', [send(`w${w}-${i}`)]);
							seqs.push(messageOf(results[0]).seq);
							await tick();
						}
						return seqs;
					})
				);
				const all = replies.flat().sort((a, b) => a - b);
				expect(all).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
				for (const seqs of replies) expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
				const state = (await syncAll(stores[0]!, 'race', users[0]!.user.id)).flatMap((p) => p.messages);
				expect(state.map((m) => m.seq)).toEqual(all);
				expect(new Set(state.map((m) => `${m.author.id}/${m.client_id}`)).size).toBe(1000);
			});
		});
	});
}
