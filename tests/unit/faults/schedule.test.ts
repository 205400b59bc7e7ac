import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { BASE_KINDS, EXTRA_KINDS, generateSchedule, LEASE_MS } from '../../faults/schedule.js';

describe('fault schedules', () => {
	test('a seed draws the same schedule every time', () => {
		expect(generateSchedule(77)).toEqual(generateSchedule(77));
		expect(generateSchedule(77)).not.toEqual(generateSchedule(78));
	});

	test('the later kinds leave every seed its actions and base faults as drawn before they came (pinned hash of seeds 1–300)', () => {
		const hash = createHash('sha256');
		for (let seed = 1; seed <= 300; seed++) {
			const { nodes: _nodes, faults, ...rest } = generateSchedule(seed);
			hash.update(JSON.stringify({ ...rest, faults: faults.filter((f) => BASE_KINDS.includes(f.kind)) }));
		}
		// The digest of the same seeds drawn by the generator before `freeze` and `node-kill` existed.
		expect(hash.digest('hex')).toBe('e43965486cf3e0d2c39194d2d410dd15499bcd1cb43848ef7a10c70c624bf475');
	});

	test('freeze is drawn beside the base kinds, 1–2 alone, longer than twice the lease; node-kill only with several nodes', () => {
		const all = Array.from({ length: 200 }, (_, i) => generateSchedule(i + 1));
		const freezes = all.flatMap((s) => s.faults.filter((f) => f.kind === 'freeze'));
		expect(freezes.length).toBeGreaterThan(20);
		for (const f of freezes) expect(f.ms).toBeGreaterThanOrEqual(2 * LEASE_MS);
		expect(all.some((s) => s.faults.some((f) => f.kind === 'node-kill'))).toBe(false);

		for (let seed = 1; seed <= 50; seed++) {
			const alone = generateSchedule(seed, ['freeze']);
			expect(alone.faults.length).toBeGreaterThanOrEqual(1);
			expect(alone.faults.length).toBeLessThanOrEqual(2);
			expect(alone.faults.every((f) => f.kind === 'freeze')).toBe(true);
			const cluster = generateSchedule(seed, EXTRA_KINDS, 3);
			for (const f of cluster.faults.filter((x) => x.kind === 'node-kill')) expect(f.node).toBeGreaterThanOrEqual(0), expect(f.node).toBeLessThan(3);
		}
		expect(Array.from({ length: 50 }, (_, i) => generateSchedule(i + 1, ['node-kill'], 2)).some((s) => s.faults.length > 0)).toBe(true);
	});
});
