/**
 * Attachments end to end (issue 10): 20 messages, each with a 1 MiB image,
 * queued while the sender is offline (the kit in Node: chat preset, memory
 * storage, the real phoenix transport over `ws`, the default HTTP uploader
 * on `fetch`); then it comes online. Measured: the time from going online
 * until all 20 are confirmed to the sender AND shown, with their image, in
 * another client's room view (the chat preset's view, as the app renders
 * it); and the server's RSS (its own process, read from /proc every 20 ms)
 * during the uploads, against its idle RSS just before. The limit is 64 MB
 * above idle.
 */
import { WebSocket } from 'ws';
import { createHttpUploader, createPhoenixTransport } from '../src/lib/outbox/adapters/index.js';
import { createOutbox, type Outbox } from '../src/lib/outbox/index.js';
import { attachmentsOf, chatActions, createChat, type ChatActions } from '../src/lib/chat/index.js';
import { MemoryStorage } from '../src/lib/outbox/testing/memory-storage.js';

/** The load tools' server helpers (plain JS, loaded at run time next to this bench's build in bench/.build). */
interface ServerUnderTest {
	port: number;
	usage(): { rssBytes: number };
	stop(): Promise<void>;
}
const harnessUrl = new URL('../load/harness.js', import.meta.url).href;
const { buildServer, startServer } = (await import(/* @vite-ignore */ harnessUrl)) as {
	buildServer(): Promise<string>;
	startServer(options: { entry: string }): Promise<ServerUnderTest>;
};

const MESSAGES = Number(process.env.BENCH_ATTACH_MESSAGES ?? 20);
const FILE_BYTES = 1024 * 1024;
const RSS_LIMIT_MB = 64;
const ROOM = 'room:bench-files';
const MB = 1024 * 1024;

function png(seed: number): Uint8Array<ArrayBuffer> {
	const bytes = new Uint8Array(FILE_BYTES);
	bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52]);
	for (let i = 16; i < bytes.length; i += 4096) bytes[i] = (seed + i) & 0xff;
	return bytes;
}

async function signIn(base: string, name: string) {
	const res = await fetch(`${base}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, password: `pw-${name}` }) });
	if (!res.ok) throw new Error(`sign-in ${name}: ${res.status}`);
	return (await res.json()) as { token: string; user: { id: string; name: string } };
}

function client(base: string, port: number, session: { token: string; user: { id: string; name: string } }, autoConnect: boolean): Outbox<ChatActions> {
	const transport = createPhoenixTransport({
		endpoint: `ws://127.0.0.1:${port}/socket`,
		token: () => session.token,
		socketOptions: { transport: WebSocket as never, timeout: 30_000, reconnectAfterMs: () => 100 }
	});
	return createOutbox({
		actions: chatActions,
		deps: { storage: new MemoryStorage(), transport, uploader: createHttpUploader({ url: `${base}/api/uploads`, token: () => session.token, via: 'fetch' }) },
		user: session.user,
		autoConnect,
		pushTimeoutMs: 30_000,
		eventTarget: null
	});
}

const until = async (check: () => boolean, ms: number, what: string) => {
	const end = Date.now() + ms;
	while (!check()) {
		if (Date.now() > end) throw new Error(`timed out: ${what}`);
		await new Promise((r) => setTimeout(r, 5));
	}
};

const step = (text: string) => console.error(`[attachments] ${text}`);
const server = await startServer({ entry: await buildServer() });
step(`server on ${server.port}`);
const base = `http://127.0.0.1:${server.port}`;
try {
	const [ann, bob] = [await signIn(base, 'bench-ann'), await signIn(base, 'bench-bob')];

	// The other client, online, watching the room.
	const reader = client(base, server.port, bob, true);
	await reader.ready;
	const readerRoom = createChat(reader, { rejectedStore: null }).room(ROOM);
	await until(() => reader.connection.get().status === 'connected' && readerRoom.view.get().ready, 30_000, 'reader joined');

	step('reader joined');
	// The sender, offline (never connected): 20 messages, each with a 1 MiB image.
	const sender = client(base, server.port, ann, false);
	await sender.ready;
	const senderRoom = createChat(sender, { rejectedStore: null }).room(ROOM);
	for (let i = 0; i < MESSAGES; i++) {
		const sent = await senderRoom.send(`photo ${i}`, [new File([png(i)], `photo-${i}.png`, { type: 'image/png' })]);
		if (!sent.ok) throw new Error(`not queued: ${sent.row.error?.message}`);
	}
	if (sender.count !== MESSAGES) throw new Error(`expected ${MESSAGES} queued, got ${sender.count}`);

	step(`${MESSAGES} queued`);
	// Idle RSS: the server with both users signed in and the reader joined, nothing uploading.
	await new Promise((r) => setTimeout(r, 500));
	const idle = server.usage().rssBytes;
	let peak = idle;
	const sampler = setInterval(() => (peak = Math.max(peak, server.usage().rssBytes)), 20);

	const started = performance.now();
	sender.deps.transport.connect();
	await until(() => sender.count === 0, 120_000, 'all confirmed');
	const confirmedMs = performance.now() - started;
	step('all confirmed');
	await until(
		() => {
			const rows = readerRoom.messages.filter((row) => row.body.startsWith('photo '));
			return rows.length === MESSAGES && rows.every((row) => attachmentsOf(row).some((a) => a.status === 'sent' && a.url !== null));
		},
		60_000,
		'shown on the other client'
	);
	const shownMs = performance.now() - started;
	clearInterval(sampler);
	peak = Math.max(peak, server.usage().rssBytes);
	const order = readerRoom.messages.filter((row) => row.body.startsWith('photo ')).map((row) => row.body);
	if (order.join() !== Array.from({ length: MESSAGES }, (_, i) => `photo ${i}`).join()) throw new Error(`out of order: ${order.join()}`);

	const deltaMb = +((peak - idle) / MB).toFixed(1);
	const results = [
		{
			kind: 'attachments',
			name: `${MESSAGES} messages × 1 MiB image, queued offline, then online`,
			messages: MESSAGES,
			confirmedSeconds: +(confirmedMs / 1000).toFixed(3),
			shownSeconds: +(shownMs / 1000).toFixed(3),
			idleRssMb: +(idle / MB).toFixed(1),
			peakRssMb: +(peak / MB).toFixed(1),
			rssAboveIdleMb: deltaMb,
			rssLimitMb: RSS_LIMIT_MB
		}
	];
	console.log(
		`${MESSAGES} × 1 MiB: all confirmed in ${(confirmedMs / 1000).toFixed(2)} s, shown on the other client in ${(shownMs / 1000).toFixed(2)} s; server RSS idle ${(idle / MB).toFixed(1)} MB, peak ${(peak / MB).toFixed(1)} MB (+${deltaMb} MB, limit +${RSS_LIMIT_MB} MB: ${deltaMb <= RSS_LIMIT_MB ? 'met' : 'NOT met'})`
	);
	console.log('BENCH_JSON ' + JSON.stringify(results));
	await sender.close();
	await reader.close();
} finally {
	await server.stop();
}
// The kit clients' sockets keep timers (phoenix reconnects); the run is over.
process.exit(0);
