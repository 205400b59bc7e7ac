/**
 * `disconnect(key)` (a sign-out, a revoked token) also closes a socket of
 * that key whose connect was being authenticated at that moment: its check
 * passed before the revocation and would otherwise let it live on with a
 * revoked token (found by the fault schedules on PostgreSQL, where the
 * check takes two queries: a follower tab stayed on such a socket, refused
 * every join, and never showed another message).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startTestServer, type TestServer } from './helpers/test-server.js';
import { waitFor } from './helpers/wait.js';

let srv: TestServer | null = null;
afterEach(async () => {
	await srv?.close();
	srv = null;
});

describe('disconnect(key) while a connect of that key is being authenticated', () => {
	it('closes that socket with 1001 as soon as it is open; a connect begun after it lives', async () => {
		let release: (() => void) | null = null;
		const gate = new Promise<void>((resolve) => (release = resolve));
		let slow = true;
		let authenticating = 0;
		srv = await startTestServer({
			authenticate: async ({ token }) => {
				authenticating++;
				if (slow) await gate;
				return { user: token ?? 'anon' };
			}
		});
		const early = new WebSocket(`${srv.wsUrl}&token=ann`);
		const closed = new Promise<number>((resolve) => early.once('close', (code) => resolve(code)));
		await waitFor(() => authenticating === 1, 'the connect being authenticated');
		srv.channels.disconnect('user:ann');
		release!();
		expect(await closed).toBe(1001);

		slow = false;
		const later = new WebSocket(`${srv.wsUrl}&token=ann`);
		await new Promise<void>((resolve, reject) => {
			later.once('open', () => resolve());
			later.once('error', reject);
		});
		await new Promise((r) => setTimeout(r, 100));
		expect(later.readyState).toBe(WebSocket.OPEN);
		later.close();
	});
});
