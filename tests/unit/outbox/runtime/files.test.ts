/**
 * Actions carrying files, on the engine with a fake uploader: stored with the
 * item in one write, uploaded under ids derived from the item before the
 * push (in the one send loop), progress as state, refusals failing the item,
 * network errors retried, a reload resuming without uploading twice, files
 * removed with their item, and a storage that cannot keep files refusing them.
 */
import { describe, expect, it } from 'vitest';
import { FilesNotStorableError, MAX_FILES_PER_ITEM, type UploadRequest, type UploadResult, type Uploader } from '../../../../src/lib/outbox/index.js';
import { World } from './harness.js';

const ROOM = 'room:lobby';

type Handler = (request: UploadRequest, progress?: (p: { loaded: number; total: number }) => void) => Promise<UploadResult> | UploadResult;

/** An uploader that records every call and answers through `handler` (default: stores it). */
class FakeUploader implements Uploader {
	calls: string[] = [];
	stored = new Map<string, { size: number; type: string }>();
	handler: Handler | null = null;
	async upload(request: UploadRequest, onProgress?: (p: { loaded: number; total: number }) => void): Promise<UploadResult> {
		this.calls.push(request.uploadId);
		if (this.handler) return this.handler(request, onProgress);
		return this.store(request);
	}
	store(request: UploadRequest): UploadResult {
		this.stored.set(request.uploadId, { size: request.blob.size, type: request.type });
		return { kind: 'ok', upload: { id: request.uploadId, name: request.name, type: request.type, size: request.blob.size } };
	}
}

const png = (name = 'a.png', bytes = 10) => new File([new Uint8Array(bytes)], name, { type: 'image/png' });

describe('actions with files', () => {
	it('stores the files with the item in one write before add resolves, uploads them under derived ids, then pushes naming them', async () => {
		const world = new World({ seed: 3 });
		const uploader = new FakeUploader();
		const tab = world.tabWith('ann', { uploader });
		await tab.outbox.ready;
		// A type of the app's own without `toWire`: the default wire form names the uploads as `uploads`.
		tab.outbox.actions.register('note', { event: 'send_message' });
		const before = world.storage.stats.transactions;
		const item = await tab.outbox.add('note' as 'send_message', ROOM, { body: 'look' }, { files: [png('one.png', 5), new Blob(['hi'], { type: 'text/plain' })] });
		expect(world.storage.stats.transactions).toBe(before + 1);
		const stored = world.storage.snapshot('ann').find((i) => i.id === item.id);
		expect(stored?.files?.map((f) => [f.uploadId, f.name, f.type, f.size, f.blob instanceof Blob, f.upload])).toEqual([
			[`${item.id}.0`, 'one.png', 'image/png', 5, true, null],
			[`${item.id}.1`, 'file-2', 'text/plain', 2, true, null]
		]);
		await world.until(() => tab.outbox.count === 0, 30_000, 'sent');
		expect(uploader.calls).toEqual([`${item.id}.0`, `${item.id}.1`]);
		const pushed = tab.pair.server.receivedOf('send_message').map((r) => r.payload);
		expect(pushed).toEqual([{ body: 'look', client_id: item.id, uploads: [`${item.id}.0`, `${item.id}.1`] }]);
		// Confirmed: the item and its files are gone from storage.
		expect(world.storage.snapshot('ann')).toEqual([]);
		expect(world.storage.blobCount()).toBe(0);
	});

	it('keeps lane order: a later action waits while an earlier one uploads, then both go in order', async () => {
		const world = new World({ seed: 4 });
		const uploader = new FakeUploader();
		let release: () => void = () => {};
		uploader.handler = (request, progress) =>
			new Promise((resolve) => {
				progress?.({ loaded: 4, total: 10 });
				release = () => resolve(uploader.store(request));
			});
		const tab = world.tabWith('ann', { uploader });
		await tab.outbox.ready;
		const first = await tab.outbox.add('send_message', ROOM, { body: 'photo' }, { files: [png()] });
		const second = await tab.outbox.add('send_message', ROOM, { body: 'after' });
		await world.until(() => uploader.calls.length === 1, 10_000, 'upload started');
		expect(tab.outbox.uploads.get()).toEqual({ [first.id]: { 0: { loaded: 4, total: 10 } } });
		expect(tab.outbox.get(first.id)?.status).toBe('sending');
		await world.run(500);
		expect(tab.pair.server.received.filter((r) => r.event !== 'phx_join')).toEqual([]);
		release();
		await world.until(() => tab.outbox.count === 0, 30_000, 'sent');
		expect(world.model.messages.map((m) => m.client_id)).toEqual([first.id, second.id]);
		expect(tab.outbox.uploads.get()).toEqual({});
	});

	it('fails the item with the reason when the server refuses a file, and the lane goes on', async () => {
		const world = new World({ seed: 5 });
		const uploader = new FakeUploader();
		uploader.handler = (request) => (request.type === 'image/png' ? { kind: 'refused', status: 415, reason: 'invalid' } : uploader.store(request));
		const tab = world.tabWith('ann', { uploader });
		await tab.outbox.ready;
		const bad = await tab.outbox.add('send_message', ROOM, { body: 'fake png' }, { files: [png('fake.png')] });
		const next = await tab.outbox.add('send_message', ROOM, { body: 'next' });
		await world.until(() => tab.outbox.get(bad.id)?.status === 'failed' && tab.outbox.get(next.id) === undefined, 30_000, 'settled');
		const error = tab.outbox.get(bad.id)?.lastError;
		expect(error?.reason).toBe('invalid');
		expect(error?.verdict).toBe('fail');
		expect(error?.message).toMatch(/fake\.png.*not a file type/);
		expect(world.model.messages.map((m) => m.client_id)).toEqual([next.id]);
		expect(uploader.calls).toEqual([`${bad.id}.0`]);
		// Discarded: the item and its file leave storage.
		await tab.outbox.discard(bad.id);
		expect(world.storage.snapshot('ann')).toEqual([]);
		expect(world.storage.blobCount()).toBe(0);
	});

	it('retries after a network error, and after a reload uploads only the files not stored yet', async () => {
		const world = new World({ seed: 6, retry: { maxRetries: 5, baseMs: 100, capMs: 500 } });
		const uploader = new FakeUploader();
		uploader.handler = (request) => (request.uploadId.endsWith('.1') ? { kind: 'network', message: 'cut' } : uploader.store(request));
		const first = world.tabWith('ann', { uploader });
		await first.outbox.ready;
		const item = await first.outbox.add('send_message', ROOM, { body: 'two files' }, { files: [png('a.png'), png('b.png')] });
		await world.until(() => uploader.calls.length >= 3, 30_000, 'retried');
		expect(uploader.calls.slice(0, 3)).toEqual([`${item.id}.0`, `${item.id}.1`, `${item.id}.1`]);
		const held = first.outbox.get(item.id);
		expect(held?.files?.[0]?.upload?.id).toBe(`${item.id}.0`);
		expect(world.storage.snapshot('ann')[0]?.files?.[0]?.upload?.id).toBe(`${item.id}.0`);
		await first.outbox.close();

		// A reload: a new engine on the same storage, with the network back.
		uploader.calls = [];
		uploader.handler = null;
		const second = world.tabWith('ann', { uploader });
		await second.outbox.ready;
		await world.until(() => second.outbox.count === 0, 30_000, 'sent after reload');
		expect(uploader.calls).toEqual([`${item.id}.1`]);
		expect(world.model.messages.map((m) => m.client_id)).toEqual([item.id]);
	});

	it('retries a rate-limited upload later (429 is a passing refusal)', async () => {
		const world = new World({ seed: 7, retry: { maxRetries: 5, baseMs: 100, capMs: 500 } });
		const uploader = new FakeUploader();
		let refusals = 2;
		uploader.handler = (request) => (refusals-- > 0 ? { kind: 'refused', status: 429, reason: 'rate_limited' } : uploader.store(request));
		const tab = world.tabWith('ann', { uploader });
		await tab.outbox.ready;
		const item = await tab.outbox.add('send_message', ROOM, { body: 'later' }, { files: [png()] });
		await world.until(() => tab.outbox.get(item.id)?.lastError?.reason === 'rate_limited', 10_000, 'refused once');
		expect(tab.outbox.get(item.id)?.status).toBe('queued');
		await world.until(() => tab.outbox.count === 0, 30_000, 'sent');
		expect(uploader.calls).toEqual([`${item.id}.0`, `${item.id}.0`, `${item.id}.0`]);
	});

	it('refuses files with a typed error when the storage cannot keep them (localStorage), storing nothing', async () => {
		const world = new World({ seed: 8 });
		world.storage.filesAccepted = false;
		const tab = world.tabWith('ann', { uploader: new FakeUploader() });
		await tab.outbox.ready;
		const before = world.storage.stats.transactions;
		await expect(tab.outbox.add('send_message', ROOM, { body: 'x' }, { files: [png()] })).rejects.toBeInstanceOf(FilesNotStorableError);
		expect(world.storage.stats.transactions).toBe(before);
		expect(tab.outbox.count).toBe(0);
		// Without files the same storage still queues.
		await tab.outbox.add('send_message', ROOM, { body: 'text only' });
		expect(tab.outbox.count).toBe(1);
	});

	it('checks the files given to add', async () => {
		const world = new World({ seed: 9 });
		const tab = world.tabWith('ann', { uploader: new FakeUploader() });
		await tab.outbox.ready;
		expect(() => tab.outbox.add('send_message', ROOM, { body: 'x' }, { files: ['nope' as unknown as Blob] })).toThrow(/file 0 is not a Blob/);
		const many = Array.from({ length: MAX_FILES_PER_ITEM + 1 }, () => png());
		expect(() => tab.outbox.add('send_message', ROOM, { body: 'x' }, { files: many })).toThrow(`at most ${MAX_FILES_PER_ITEM} files`);
		expect(tab.outbox.count).toBe(0);
	});

	it('fails an item with files when no uploader is configured', async () => {
		const world = new World({ seed: 10 });
		const tab = world.tab('ann');
		await tab.outbox.ready;
		const item = await tab.outbox.add('send_message', ROOM, { body: 'x' }, { files: [png()] });
		await world.until(() => tab.outbox.get(item.id)?.status === 'failed', 10_000, 'failed');
		expect(tab.outbox.get(item.id)?.lastError?.message).toMatch(/no uploader/);
	});
});

describe('the chat preset sending files', () => {
	it('queues a message that is files alone, and refuses before queueing what cannot go (shown as a failed row with the reason)', async () => {
		const world = new World({ seed: 11 });
		const uploader = new FakeUploader();
		const tab = world.tabWith('ann', { uploader });
		await tab.outbox.ready;
		const room = tab.chat.room(ROOM);
		const alone = await room.send('', [png('only.png')]);
		expect(alone.ok).toBe(true);
		await world.until(() => tab.outbox.count === 0, 30_000, 'sent');
		expect(tab.pair.server.receivedOf('send_message').map((r) => r.payload.attachments)).toEqual([[`${(alone as { item: { id: string } }).item.id}.0`]]);

		const five = await room.send('too many', [1, 2, 3, 4, 5].map((i) => png(`${i}.png`)));
		expect(five.ok).toBe(false);
		expect(!five.ok && five.row.error?.message).toBe('A message can carry at most 4 files.');
		const pdf = new File([new Uint8Array(10 * 1024 * 1024 + 1)], 'big.pdf', { type: 'application/pdf' });
		const big = await room.send('', [pdf]);
		expect(!big.ok && big.row.error?.message).toMatch(/"big\.pdf" is 10\.0 MB: a file may be at most 10\.0 MB/);

		world.storage.filesAccepted = false;
		const noIdb = await room.send('with a file', [png()]);
		expect(!noIdb.ok && noIdb.row.error?.message).toMatch(/localStorage/);
		expect(tab.outbox.count).toBe(0);
		expect(uploader.calls).toHaveLength(1);
	});
});
