/**
 * The kit in Node against the real server: memory storage, the real phoenix
 * transport adapter over `ws`, the real server on port 0. 500 actions over 3
 * rooms while the connection is cut 20 times at seeded random moments (the
 * server closing the user's sockets with 1001, or the TCP link dying under
 * them), then: every action is at the server exactly once, in per-room order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createPhoenixTransport } from '../../../src/lib/outbox/adapters/index.js';
import { createOutbox, type Outbox } from '../../../src/lib/outbox/index.js';
import { chatActions, createChat, type ChatActions } from '../../../src/lib/chat/index.js';
import { MemoryStorage } from '../../../src/lib/outbox/testing/memory-storage.js';
import { seededRandom } from '../../../src/lib/outbox/testing/seeded-random.js';
import { socketKeyFor } from '../../../src/lib/server/app.js';
import { joinRoom, startServer, syncAll, until, type TestServer } from '../chat/harness.js';
import { startTcpCutter, type TcpCutter } from './tcp-cutter.js';

const ROOMS = ['kit-a', 'kit-b', 'kit-c'];
const ACTIONS = 500;
const CUTS = 20;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the kit against the real server', () => {
	let server: TestServer;
	let cutter: TcpCutter;

	beforeAll(async () => {
		server = await startServer();
		cutter = await startTcpCutter(Number(new URL(server.url).port));
	});
	afterAll(async () => {
		await cutter?.close();
		await server?.close();
	});

	it('confirms 500 actions over 3 rooms exactly once and in order while the connection is cut 20 times', async () => {
		const { token, user } = await server.signIn('kitrunner');
		const random = seededRandom(2024);
		const transport = createPhoenixTransport({
			endpoint: `ws://127.0.0.1:${cutter.port}/socket`,
			token: () => token,
			socketOptions: {
				transport: WebSocket as never,
				heartbeatIntervalMs: 1000,
				reconnectAfterMs: () => 30,
				rejoinAfterMs: () => 30,
				timeout: 5000
			}
		});
		// Count push outcomes, to show the cuts did land while pushes were under way.
		const outcomes: Record<string, number> = {};
		const counted = new Proxy(transport, {
			get(target, key) {
				const value: unknown = Reflect.get(target, key);
				if (key !== 'push') return typeof value === 'function' ? value.bind(target) : value;
				return async (...args: Parameters<typeof transport.push>) => {
					const result = await target.push(...args);
					outcomes[result.status] = (outcomes[result.status] ?? 0) + 1;
					return result;
				};
			}
		});
		const outbox: Outbox<ChatActions> = createOutbox({
			actions: chatActions,
			deps: { storage: new MemoryStorage(), transport: counted },
			user,
			pushTimeoutMs: 5000,
			retry: { baseMs: 50, capMs: 400, networkDelayMs: 50, maxRetries: 20 },
			eventTarget: null
		});
		await outbox.ready;
		const chat = createChat(outbox, { rejectedStore: null });
		const rooms = ROOMS.map((slug) => chat.room(`room:${slug}`));
		await until(() => outbox.connection.get().status === 'connected', 5000, 'connected');

		const made = new Map<string, string[]>(ROOMS.map((slug) => [slug, []]));
		const cutAt = new Set<number>();
		while (cutAt.size < CUTS) cutAt.add(Math.floor(random() * ACTIONS));
		let serverCuts = 0;
		let tcpCuts = 0;
		let reconnects = 0;
		outbox.connection.subscribe((c) => c.status === 'connected' && c.wasDisconnected && reconnects++);

		for (let i = 0; i < ACTIONS; i++) {
			const slug = ROOMS[Math.floor(random() * ROOMS.length)] as string;
			const item = await outbox.add('send_message', `room:${slug}`, { body: `action ${i}` });
			made.get(slug)?.push(item.id);
			if (cutAt.has(i)) {
				// Cut a live connection while the queue is flushing: let some pushes get under way first.
				const byServer = random() < 0.5;
				const pause = 5 + Math.floor(random() * 40);
				for (let done = false; !done; ) {
					await until(() => outbox.connection.get().status === 'connected' && server.outbox.channels.connectionCount > 0, 5000, 'reconnected before the next cut');
					await sleep(pause);
					if (byServer && server.outbox.channels.connectionCount > 0) {
						server.outbox.channels.disconnect(socketKeyFor(user.id));
						serverCuts++;
						done = true;
					} else if (!byServer && cutter.cutAll() > 0) {
						tcpCuts++;
						done = true;
					}
				}
			} else if (i % 10 === 0) {
				await sleep(Math.floor(random() * 15));
			}
		}
		await until(() => outbox.count === 0, 15_000, 'the queue drained');
		expect(serverCuts + tcpCuts).toBe(CUTS);
		expect(tcpCuts).toBeGreaterThan(0);
		expect(reconnects).toBeGreaterThan(5);
		expect(outcomes.closed ?? 0).toBeGreaterThan(0);
		console.info(`kit integration: ${serverCuts} server closes, ${tcpCuts} TCP kills, ${reconnects} reconnects, push outcomes ${JSON.stringify(outcomes)}`);

		// What the server holds, seen by an independent official client: sync from null.
		const socket = server.connect(token);
		let total = 0;
		for (const slug of ROOMS) {
			const channel = await joinRoom(socket, slug);
			const { messages } = await syncAll(channel, null);
			const clientIds = messages.map((m: { client_id: string }) => m.client_id);
			expect(new Set(clientIds).size).toBe(clientIds.length); // each client_id once
			expect(clientIds).toEqual(made.get(slug)); // seq order == creation order
			expect(messages.map((m: { seq: number }) => m.seq)).toEqual(clientIds.map((_: string, i: number) => i + 1));
			total += messages.length;
		}
		expect(total).toBe(ACTIONS);

		// The kit's own rooms converge too: every action shown once, sent.
		await until(() => rooms.every((room, i) => room.messages.filter((m) => m.status === 'sent').length === made.get(ROOMS[i] as string)?.length), 10_000, 'room views');
		for (const [i, room] of rooms.entries()) {
			expect(room.messages.map((m) => m.clientId)).toEqual(made.get(ROOMS[i] as string));
		}
		await outbox.close();
	}, 30_000);
});
