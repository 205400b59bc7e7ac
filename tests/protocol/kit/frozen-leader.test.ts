/**
 * A leader tab frozen (a page frozen by the browser, or its main thread
 * blocked) while a push is out, for longer than its lease: another tab takes
 * the lease and sends the queue; when the frozen tab resumes, the reply it
 * was sent meanwhile reaches it first. It must not push anything more: it
 * asks the lease before it sends, and steps down. The tabs are the kit with
 * the lease election over a shared `localStorage`; the freeze is the fault
 * schedules' (`tests/faults/freezer.ts`: the tab's timers, socket frames and
 * tab messages held until it resumes).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPhoenixTransport, createTabCoordinator } from '../../../src/lib/outbox/adapters/index.js';
import { createOutbox, type Outbox } from '../../../src/lib/outbox/index.js';
import { chatActions, createChat, type ChatActions } from '../../../src/lib/chat/index.js';
import { MemoryStorage } from '../../../src/lib/outbox/testing/memory-storage.js';
import { installFreezer, TabZone } from '../../faults/freezer.js';
import { installLocalStorage } from '../../faults/local-storage.js';
import { joinRoom, syncAll, until, startServer, type TestServer } from '../chat/harness.js';

const LEASE_MS = 300;

describe('a leader tab frozen past its lease, then resumed', () => {
	let server: TestServer;
	const closers: Array<() => Promise<void>> = [];
	beforeAll(async () => {
		installLocalStorage();
		installFreezer();
		server = await startServer();
	});
	afterAll(async () => {
		for (const close of closers) await close();
		await server?.close();
	});

	it('steps down on resuming and pushes nothing more; every action is stored once, in order', async () => {
		const ann = await server.signIn('frozen-ann');
		const storage = new MemoryStorage();
		const open = (name: string) => {
			const zone = new TabZone(name);
			const pushes: string[] = [];
			const outbox: Outbox<ChatActions> = zone.run(() =>
				createOutbox({
					actions: chatActions,
					deps: {
						storage,
						tabs: createTabCoordinator({ name: `outbox:${ann.user.id}`, election: 'lease', leaseMs: LEASE_MS, messaging: 'broadcast-channel' }),
						transport: createPhoenixTransport({
							endpoint: server.wsUrl,
							token: () => ann.token,
							socketOptions: { transport: zone.WebSocket as never, reconnectAfterMs: () => 30, rejoinAfterMs: () => 30, timeout: 10_000 }
						})
					},
					user: ann.user,
					maxBatch: 1, // one action per push: the second waits behind the first in its lane
					eventTarget: null
				})
			);
			const room = zone.run(() => createChat(outbox, { rejectedStore: null }).room('room:frozen'));
			zone.onActionPush = () => pushes.push(name);
			closers.push(async () => {
				zone.thaw();
				await zone.idle();
				await zone.run(() => outbox.close());
			});
			return { zone, outbox, room, pushes };
		};

		const a = open('a');
		await until(() => a.outbox.session.get().phase === 'leader' && a.outbox.deps.transport.channelState('room:frozen') === 'joined', 5000, 'tab a leads');
		const b = open('b');
		await until(() => b.outbox.session.get().phase === 'follower' && b.outbox.deps.transport.channelState('room:frozen') === 'joined', 5000, 'tab b follows');

		// a freezes as its first push leaves; the second action waits behind it in a's queue.
		a.zone.onActionPush = () => {
			a.pushes.push('a');
			a.zone.freeze();
		};
		const [x, y] = await a.zone.run(() => Promise.all([a.outbox.add('send_message', 'room:frozen', { body: 'x' }), a.outbox.add('send_message', 'room:frozen', { body: 'y' })]));
		await until(() => a.zone.frozen, 5000, 'a frozen with its push out');
		expect(a.pushes).toEqual(['a']);

		// b takes the stale lease and sends both; a, frozen, has heard nothing of it.
		await until(() => b.outbox.session.get().phase === 'leader', 5000, 'b takes over');
		await until(() => b.outbox.count === 0, 10_000, "b sends a's queue");
		expect(b.pushes.length).toBeGreaterThanOrEqual(1);
		expect(a.outbox.session.get().phase).toBe('leader'); // a's code has not run since it froze

		// a resumes: x's reply, in its buffer, comes first; y is still in its queue.
		const pushesBefore = a.pushes.length;
		a.zone.onActionPush = () => a.pushes.push('a');
		a.zone.thaw();
		await a.zone.idle();
		await until(() => a.outbox.session.get().phase === 'follower', 5000, 'a steps down');
		expect(a.pushes.length - pushesBefore).toBe(0);
		expect(b.outbox.session.get().phase).toBe('leader');

		const channel = await joinRoom(server.connect(ann.token), 'frozen');
		const { messages } = await syncAll(channel, null);
		expect(messages.map((m: { client_id: string }) => m.client_id)).toEqual([x.id, y.id]);
		await until(() => a.room.messages.filter((m) => m.status === 'sent').length === 2 && a.outbox.count === 0, 5000, "a's view");
		expect(a.room.messages.map((m) => m.clientId)).toEqual([x.id, y.id]);
	});
});
