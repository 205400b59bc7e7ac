/**
 * Issue 12: a frozen leader resumes after another tab took the lead, and its
 * late `queue-changed` messages still carry items it had marked `sending`.
 * The "resumed" tab here is a bare tab of the hub (never the leader) that
 * broadcasts such a mark, as the resumed tab's store would.
 */
import { describe, expect, it } from 'vitest';
import type { QueueItem } from '../../../../src/lib/outbox/core/queue-item.js';
import { World } from './harness.js';

const ROOM = 'room:lobby';

function lateMark(world: World, item: QueueItem): void {
	const resumed = world.hub.tab();
	resumed.broadcast({ kind: 'queue-changed', namespace: 'ann', items: [{ ...item, status: 'sending', nextAttemptAt: null }], removedIds: [] });
	resumed.close();
}

describe('late sending marks from a tab that no longer leads', () => {
	it('the leader does not take another tab’s `sending` mark: it still sends the item', async () => {
		const world = new World();
		const leader = world.tab('ann');
		const follower = world.tab('ann');
		await Promise.all([leader.outbox.ready, follower.outbox.ready]);
		leader.pair.setReachable(false);
		await world.run(50);
		const added = await follower.outbox.add('send_message', ROOM, { body: 'one' });
		await world.run(50);
		const item = leader.outbox.list().find((i) => i.id === added.id);
		expect(item?.status).toBe('queued');

		lateMark(world, item as QueueItem);
		await world.run(50);
		expect(leader.outbox.list().map((i) => i.status)).toEqual(['queued']);
		expect(follower.outbox.list().map((i) => i.status)).toEqual(['sending']); // a follower shows it (live status)

		leader.pair.setReachable(true);
		await world.until(() => leader.outbox.count === 0 && follower.outbox.count === 0, 20_000, 'both tabs drained');
		expect(world.model.messages.map((m) => m.client_id)).toEqual([added.id]);
	});

	it('no tab takes a late `sending` mark for an item settled since: it does not come back', async () => {
		const world = new World();
		const leader = world.tab('ann');
		const follower = world.tab('ann');
		await Promise.all([leader.outbox.ready, follower.outbox.ready]);
		await world.run(50);
		const added = await follower.outbox.add('send_message', ROOM, { body: 'one' });
		const item = follower.outbox.list().find((i) => i.id === added.id) as QueueItem;
		await world.until(() => leader.outbox.count === 0 && follower.outbox.count === 0, 20_000, 'both tabs drained');

		lateMark(world, item);
		await world.run(500);
		expect(leader.outbox.count).toBe(0);
		expect(follower.outbox.count).toBe(0);
		expect(world.model.messages.map((m) => m.client_id)).toEqual([added.id]);
	});
});
