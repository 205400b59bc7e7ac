/**
 * A rejoin refused as unauthorized is a refused join like the first one: the
 * kit forgets the topic, the session is refused, and after a sign-in again
 * (`setUser` with the same user) the topic is joined again and its lane sends.
 *
 * phoenix.js rejoins a channel by itself (after a reconnect, or a crash on a
 * live socket); when the server refuses that rejoin, the transport ends the
 * topic for good. The kit used to hear of a refusal only through the promise
 * of the first join (long settled by then): the topic stayed "wanted" but
 * gone, `ensure` never joined it again, and the lane's actions stayed queued
 * on a connected socket for ever (issue 12, fault schedules 531 and 673 on
 * PostgreSQL under load: a socket authorised just before its token was
 * revoked, registered just after the server closed the user's sockets).
 *
 * Here: the room's channel crashes on the server (`phx_error`: its `sync`
 * throws once) as the session expires under the live socket (the server's
 * clock jumps), and phoenix's rejoin on the same socket is refused. (Since a
 * token's revocation is checked once per connection, the join refuses an
 * expired session, not a revoked one.)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createPhoenixTransport } from '../../../src/lib/outbox/adapters/index.js';
import { createOutbox } from '../../../src/lib/outbox/index.js';
import { chatActions, createChat } from '../../../src/lib/chat/index.js';
import { MemoryStorage } from '../../../src/lib/outbox/testing/memory-storage.js';
import { createSqliteStore } from '../../../src/lib/server/store/sqlite-store.js';
import type { ChatStore } from '../../../src/lib/server/store/port.js';
import { joinRoom, startServer, syncAll, until, type TestServer } from '../chat/harness.js';

describe('a rejoin refused as unauthorized', () => {
	let server: TestServer;
	let dir: string;
	let crashNextSync = false;
	let crashes = 0;
	/** The server's clock runs this far ahead (a session made to expire under a live socket). */
	let skewMs = 0;
	let skewOnCrash = 0;
	beforeAll(async () => {
		dir = mkdtempSync(join(tmpdir(), 'outbox-rejoin-refused-'));
		const real = createSqliteStore({ file: join(dir, 'chat.db') });
		const store = new Proxy(real, {
			get(target, property, receiver) {
				if (property === 'sync' && crashNextSync) {
					crashNextSync = false;
					crashes++;
					skewMs = skewOnCrash; // the session expires as the channel crashes: the rejoin is refused
					return () => Promise.reject(new Error('the room channel crashes (test)'));
				}
				return Reflect.get(target, property, receiver);
			}
		}) as ChatStore;
		server = await startServer({}, { store, now: () => Date.now() + skewMs });
	});
	afterAll(async () => {
		await server?.close();
		if (dir) rmSync(dir, { recursive: true, force: true });
	});

	it('refuses the session, and the topic is joined again after a sign-in again', async () => {
		const topic = 'room:rejoin-refused';
		const first = await server.signIn('rejoin-refused');
		let token = first.token;
		const transport = createPhoenixTransport({
			endpoint: server.wsUrl,
			token: () => token,
			socketOptions: { transport: WebSocket as never, heartbeatIntervalMs: 1000, reconnectAfterMs: () => 30, rejoinAfterMs: () => 30 }
		});
		const outbox = createOutbox({ actions: chatActions, deps: { storage: new MemoryStorage(), transport }, user: first.user, pushTimeoutMs: 3000, eventTarget: null });
		const chat = createChat(outbox, { rejectedStore: null });
		chat.room(topic);
		try {
			await until(() => transport.channelState(topic) === 'joined' && outbox.session.get().phase === 'leader', 5000, 'joined');

			// The room's channel crashes and, at that moment, the session expires under this live socket (a
			// join checks the expiry; a token's revocation is checked at connect): phoenix rejoins on the same
			// socket and is refused.
			const [, , , expiresAtS] = first.token.split('.');
			skewOnCrash = Number(expiresAtS) * 1000 - Date.now() + 1000;
			crashNextSync = true;
			void outbox.sync(topic);
			await until(() => transport.joinError(topic) !== null, 5000, 'the rejoin refused');
			expect(crashes).toBe(1);
			expect(transport.joinError(topic)).toMatchObject({ reason: 'unauthorized' });
			expect(transport.status().status).toBe('connected');
			await until(() => outbox.session.get().phase === 'refused', 5000, 'the session refused');

			// The app signs in again and hands the kit the same user: the room is joined again and its lane sends.
			token = (await server.signIn('rejoin-refused')).token;
			await outbox.setUser(first.user);
			const item = await outbox.add('send_message', topic, { body: 'after signing in again' });
			await until(() => outbox.count === 0, 10_000, 'the queue drained');
			expect(transport.channelState(topic)).toBe('joined');

			const socket = server.connect(token);
			const { messages } = await syncAll(await joinRoom(socket, 'rejoin-refused'), null);
			expect(messages.map((m: { client_id: string }) => m.client_id)).toEqual([item.id]);
		} finally {
			chat.close();
			await outbox.close();
		}
	}, 30_000);
});
