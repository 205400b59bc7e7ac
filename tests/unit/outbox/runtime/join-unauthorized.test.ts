/**
 * A join refused as `unauthorized` (a token revoked under a live socket)
 * refuses the session in a follower tab too, which sends nothing and would
 * otherwise sit on a room it can no longer join, showing nothing new for
 * good (found by the fault schedules on PostgreSQL: a token revoked while a
 * tab was being rebuilt). The next `setUser` joins the held topics again.
 */
import { describe, expect, it } from 'vitest';
import { error, ok } from '../../../../src/lib/outbox/testing/memory-server.js';
import { World } from './harness.js';

describe('a join refused as unauthorized', () => {
	it("refuses a follower's session; the same user again joins the held topic again", async () => {
		const world = new World();
		const leader = world.tab('ann');
		await leader.outbox.ready;
		const follower = world.tab('ann');
		await follower.outbox.ready;
		await world.run(100);
		expect(follower.outbox.session.get().phase).toBe('follower');

		follower.pair.server.onJoin(() => error('unauthorized', 'token revoked'));
		const topic = follower.outbox.topic('room:held');
		topic.hold();
		await world.run(500);
		expect(follower.outbox.session.get().phase).toBe('refused');
		expect(follower.outbox.deps.transport.channelState('room:held')).not.toBe('joined');

		follower.pair.server.onJoin(() => ok({}));
		await follower.outbox.setUser({ id: 'ann', name: 'ann' });
		await world.until(() => follower.outbox.deps.transport.channelState('room:held') === 'joined', 5000, 'joined again');
		expect(follower.outbox.session.get().phase).toBe('follower');
	});
});
