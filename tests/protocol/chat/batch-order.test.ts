/**
 * `send_batch` with `after` on the real server: a batch is applied only if the
 * batch it names was the last one the channel finished without a retryable
 * failure, else refused whole (`out_of_order`); the mark dies with the
 * channel. Faults come from the store port (a retryable result, or a throw
 * that crashes the channel), with the official client and then the kit
 * pipelining 4 batches per room.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createPhoenixTransport } from '../../../src/lib/outbox/adapters/index.js';
import { createOutbox } from '../../../src/lib/outbox/index.js';
import { chatActions } from '../../../src/lib/chat/index.js';
import { MemoryStorage } from '../../../src/lib/outbox/testing/memory-storage.js';
import { createSqliteStore } from '../../../src/lib/server/store/sqlite-store.js';
import type { ChatStore } from '../../../src/lib/server/store/port.js';
import type { Action } from '../../../src/lib/protocol/index.js';
import { joinRoom, push, startServer, syncAll, until, type TestServer } from './harness.js';

/** What the store does with the next call whose first action has this client_id (or that carries this body). */
type Fault = 'retryable' | 'throw';

function faultyStore(faults: Map<string, Fault>): ChatStore {
	const store = createSqliteStore({ file: ':memory:' });
	return new Proxy(store, {
		get(target, key) {
			const value: unknown = Reflect.get(target, key);
			if (key !== 'applyActions') return typeof value === 'function' ? value.bind(target) : value;
			return async (author: never, room: string, actions: Action[]) => {
				// By the first action's client_id, or by any action's body (`body:<text>`) when the id is not known in advance.
				const keys = [actions[0]?.client_id ?? '', ...actions.map((a) => `body:${String((a.payload as { body?: unknown }).body)}`)];
				const key = keys.find((k) => faults.has(k));
				const fault = key === undefined ? undefined : faults.get(key);
				if (key !== undefined) faults.delete(key);
				if (fault === 'throw') throw new Error('injected: the store is down');
				if (fault === 'retryable') {
					return { results: actions.map((a) => ({ client_id: a.client_id, status: 'error', reason: 'internal' })), created: [], updated: [] };
				}
				return target.applyActions(author, room, actions);
			};
		}
	});
}

const batch = (prefix: string, from: number, count: number) =>
	Array.from({ length: count }, (_, i) => ({ client_id: `${prefix}-${String(from + i).padStart(4, '0')}`, type: 'send_message', payload: { body: `${from + i}` } }));
const idsOf = (actions: Array<{ client_id: string }>) => actions.map((a) => a.client_id);

describe('send_batch after', () => {
	let server: TestServer;
	const faults = new Map<string, Fault>();

	beforeAll(async () => {
		server = await startServer({}, { store: faultyStore(faults) });
	});
	afterAll(async () => {
		await server?.close();
	});

	async function stored(token: string, slug: string): Promise<string[]> {
		const socket = server.connect(token);
		const channel = await joinRoom(socket, slug);
		const { messages } = await syncAll(channel, null);
		socket.disconnect();
		return messages.map((m: { client_id: string }) => m.client_id);
	}

	it('refuses whole, applying nothing, a batch behind one that failed retryably; accepts it once that one went through', async () => {
		const { token } = await server.signIn('after-a');
		const socket = server.connect(token);
		const channel = await joinRoom(socket, 'after-a');
		const [b0, b1, b2] = [batch('a', 0, 3), batch('a', 3, 3), batch('a', 6, 3)];
		faults.set(b1[0]!.client_id, 'retryable');
		// Pipelined: all three pushed before any reply.
		const replies = await Promise.all([
			push(channel, 'send_batch', { actions: b0 }),
			push(channel, 'send_batch', { actions: b1, after: b0.at(-1)!.client_id }),
			push(channel, 'send_batch', { actions: b2, after: b1.at(-1)!.client_id })
		]);
		expect(replies[0]).toMatchObject({ status: 'ok' });
		expect(replies[1]?.response.results.map((r: { reason: string }) => r.reason)).toEqual(['internal', 'internal', 'internal']);
		expect(replies[2]).toMatchObject({ status: 'error', response: { reason: 'out_of_order' } });
		expect(await stored(token, 'after-a')).toEqual(idsOf(b0));

		// Naming a batch that is not the last one applied is refused too, whatever it names.
		expect(await push(channel, 'send_batch', { actions: b2, after: 'a-9999' })).toMatchObject({ status: 'error', response: { reason: 'out_of_order' } });
		// The lane sends again from the failed batch: without `after` it is applied as it comes; then the next one names it.
		expect(await push(channel, 'send_batch', { actions: b1 })).toMatchObject({ status: 'ok' });
		expect(await push(channel, 'send_batch', { actions: b2, after: b1.at(-1)!.client_id })).toMatchObject({ status: 'ok' });
		expect(await stored(token, 'after-a')).toEqual(idsOf([...b0, ...b1, ...b2]));
		// `after` must be a client id.
		expect(await push(channel, 'send_batch', { actions: batch('a', 9, 1), after: 7 })).toMatchObject({ status: 'error', response: { reason: 'invalid' } });
		socket.disconnect();
	});

	it('a store that throws crashes the channel: nothing queued behind it runs, and the mark is gone with it', async () => {
		const { token } = await server.signIn('after-b');
		const socket = server.connect(token);
		const channel = await joinRoom(socket, 'after-b');
		const [b0, b1, b2] = [batch('b', 0, 2), batch('b', 2, 2), batch('b', 4, 2)];
		faults.set(b1[0]!.client_id, 'throw');
		const sent = [
			push(channel, 'send_batch', { actions: b0 }, 500),
			push(channel, 'send_batch', { actions: b1, after: b0.at(-1)!.client_id }, 500),
			push(channel, 'send_batch', { actions: b2, after: b1.at(-1)!.client_id }, 500)
		];
		expect(await sent[0]).toMatchObject({ status: 'ok' });
		await Promise.all(sent);
		expect(await stored(token, 'after-b')).toEqual(idsOf(b0));
		// A new channel has no mark: a batch naming the old channel's last batch is refused, one without `after` goes.
		const again = await joinRoom(socket, 'after-b');
		expect(await push(again, 'send_batch', { actions: b1, after: b0.at(-1)!.client_id })).toMatchObject({ status: 'error', response: { reason: 'out_of_order' } });
		expect(await push(again, 'send_batch', { actions: b1 })).toMatchObject({ status: 'ok' });
		socket.disconnect();
	});

	it('the kit, 4 batches in flight per room, stays exactly once and in order through a retryable failure and a channel crash', async () => {
		const { token, user } = await server.signIn('after-kit');
		const transport = createPhoenixTransport({
			endpoint: server.wsUrl,
			token: () => token,
			socketOptions: { transport: WebSocket as never, heartbeatIntervalMs: 1000, reconnectAfterMs: () => 30, rejoinAfterMs: () => 30, timeout: 5000 }
		});
		const refused: string[] = [];
		const counted = new Proxy(transport, {
			get(target, key) {
				const value: unknown = Reflect.get(target, key);
				if (key !== 'push') return typeof value === 'function' ? value.bind(target) : value;
				return async (...args: Parameters<typeof transport.push>) => {
					const result = await target.push(...args);
					if (result.status === 'error' && (result.response as { reason?: string }).reason === 'out_of_order') refused.push(String(args[2].after));
					return result;
				};
			}
		});
		const outbox = createOutbox({
			actions: chatActions,
			deps: { storage: new MemoryStorage(), transport: counted },
			user,
			batchesInFlight: 4,
			pushTimeoutMs: 5000,
			retry: { baseMs: 50, capMs: 200, networkDelayMs: 50 },
			eventTarget: null
		});
		await outbox.ready;
		faults.set('body:k200', 'retryable');
		faults.set('body:k500', 'throw');
		const made = await Promise.all(Array.from({ length: 800 }, (_, i) => outbox.add('send_message', 'room:after-kit', { body: `k${i}` })));
		const ids = made.map((item) => item.id);
		try {
			await until(() => outbox.count === 0, 20_000, 'the queue drained');
			expect(faults.size).toBe(0); // both faults struck
			expect(refused.length).toBeGreaterThan(0); // batches behind the failure were refused, not applied
			expect(await stored(token, 'after-kit')).toEqual(ids);
		} finally {
			await outbox.close();
		}
	}, 30_000);
});
