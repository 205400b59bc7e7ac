/**
 * The kit's files against the real server: the chat preset with the real
 * phoenix transport over `ws`, the default HTTP uploader (fetch in Node),
 * and memory storage. A message with a PNG and a PDF is queued while the
 * upload endpoint is unreachable, then sent once it is back: each file is
 * stored once (the same derived X-Upload-Id on every try), the message
 * carries both in order, another user can fetch them, and a text file
 * calling itself a PNG fails its message with the server's reason.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createHttpUploader, createPhoenixTransport } from '../../../src/lib/outbox/adapters/index.js';
import { createOutbox, type Outbox, type Uploader } from '../../../src/lib/outbox/index.js';
import { chatActions, createChat, type ChatActions } from '../../../src/lib/chat/index.js';
import { MemoryStorage } from '../../../src/lib/outbox/testing/memory-storage.js';
import { joinRoom, startServer, syncAll, until, type TestServer } from '../chat/harness.js';
import { fileOf, getUpload, sha256 } from '../uploads/helpers.js';

describe('the kit uploads queued files to the real server', () => {
	let server: TestServer;

	beforeAll(async () => {
		server = await startServer();
	});
	afterAll(async () => {
		await server?.close();
	});

	it('uploads each file once, then sends the message naming them; a lying file fails its message', async () => {
		const { token, user } = await server.signIn('filer');
		const http = createHttpUploader({ url: `${server.url}/api/uploads`, token: () => token, via: 'fetch' });
		let reachable = false;
		const posts: string[] = [];
		const uploader: Uploader = {
			upload(request, onProgress) {
				posts.push(request.uploadId);
				// The endpoint is unreachable at first (as offline): a network failure, retried.
				if (!reachable) return Promise.resolve({ kind: 'network', message: 'unreachable' });
				return http.upload(request, onProgress);
			}
		};
		const transport = createPhoenixTransport({
			endpoint: `${server.wsUrl}`,
			token: () => token,
			socketOptions: { transport: WebSocket as never, reconnectAfterMs: () => 50, rejoinAfterMs: () => 50, timeout: 5000 }
		});
		const outbox: Outbox<ChatActions> = createOutbox({
			actions: chatActions,
			deps: { storage: new MemoryStorage(), transport, uploader },
			user,
			pushTimeoutMs: 5000,
			retry: { baseMs: 50, capMs: 200, maxRetries: 50 },
			eventTarget: null
		});
		await outbox.ready;
		const chat = createChat(outbox, { rejectedStore: null });
		const room = chat.room('room:files');

		const png = fileOf('image/png', 40_000);
		const pdf = fileOf('application/pdf', 3000);
		const sent = await room.send('two files', [
			new File([new Uint8Array(png)], 'photo.png', { type: 'image/png' }),
			new File([new Uint8Array(pdf)], 'doc.pdf', { type: 'application/pdf' })
		]);
		if (!sent.ok) throw new Error(`not queued: ${sent.row.error?.message}`);
		await until(() => posts.length >= 3, 10_000, 'failed tries');
		expect(outbox.get(sent.item.id)?.status).not.toBe('failed');
		reachable = true;
		await until(() => outbox.get(sent.item.id) === undefined, 15_000, 'confirmed');

		// Each X-Upload-Id tried several times, stored once.
		const first = `${sent.item.id}.0`;
		expect(new Set(posts)).toEqual(new Set([first, `${sent.item.id}.1`]));
		expect(posts.filter((id) => id === first).length).toBeGreaterThan(1);

		// Another user sees the message with both files, in order, and can fetch them.
		const other = await server.signIn('reader');
		const socket = server.connect(other.token);
		const channel = await joinRoom(socket, 'files');
		const { messages } = await syncAll(channel, null);
		const message = messages.find((m: { client_id: string }) => m.client_id === sent.item.id);
		expect(message.body).toBe('two files');
		expect(message.attachments.map((a: { name: string; type: string; size: number }) => [a.name, a.type, a.size])).toEqual([
			['photo.png', 'image/png', png.length],
			['doc.pdf', 'application/pdf', pdf.length]
		]);
		const fetched = await getUpload(server.url, message.attachments[0].id, { token: other.token });
		expect(fetched.status).toBe(200);
		expect(sha256(fetched.bytes)).toBe(sha256(png));
		expect(messages.filter((m: { client_id: string }) => m.client_id === sent.item.id)).toHaveLength(1);

		// A text file calling itself a PNG: refused by the server (415 invalid), its message fails with the reason.
		const liar = await room.send('', [new File(['just some text'], 'fake.png', { type: 'image/png' })]);
		if (!liar.ok) throw new Error('not queued');
		await until(() => outbox.get(liar.item.id)?.status === 'failed', 10_000, 'failed');
		const error = outbox.get(liar.item.id)?.lastError;
		expect(error?.reason).toBe('invalid');
		expect(error?.message).toBeTruthy();
		const view = room.messages.find((row) => row.clientId === liar.item.id);
		expect(view?.status).toBe('failed');
		socket.disconnect();
		await outbox.close();
	}, 40_000);
});
