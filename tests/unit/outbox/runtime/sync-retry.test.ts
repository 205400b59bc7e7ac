/**
 * A sync routine that could not finish (its request timed out, its page never
 * came) is run again by itself: found by the fault schedules, where a view
 * stayed behind the server for good once the last sync of a quiet room failed.
 */
import { describe, expect, it } from 'vitest';
import { SYNC_RETRY_MS } from '../../../../src/lib/outbox/index.js';
import { World } from './harness.js';

describe('a sync that could not finish', () => {
	it('is run again after SYNC_RETRY_MS with nothing else happening, until it completes', async () => {
		const world = new World();
		const tab = world.tab('ann');
		await tab.outbox.ready;
		const list = tab.outbox.topic('room:quiet');
		const results = [false, false, false, true];
		const runs: number[] = [];
		list.onSync(async () => {
			runs.push(world.clock.now());
			return results[runs.length - 1] ?? true;
		});
		list.hold();
		await world.until(() => tab.outbox.connection.get().status === 'connected', 1000, 'connected');
		list.requestSync();
		await world.until(() => runs.length === 1, 1000, 'the first run');
		await world.run(SYNC_RETRY_MS * 10);
		expect(runs).toHaveLength(4);
		// The last runs came from the retry timer alone (nothing else happens in this world).
		expect(runs[3]! - runs[2]!).toBeGreaterThanOrEqual(SYNC_RETRY_MS);
		await world.run(SYNC_RETRY_MS * 10);
		expect(runs).toHaveLength(4); // complete: not run again
	});
});
