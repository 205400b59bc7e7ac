// The soak's checker (bench/load/soak-check.js) must catch what it exists
// to catch: fed made-up records with one loss, one duplicate or one
// reordering, it reports exactly that; fed clean records, nothing.
import { describe, expect, it } from 'vitest';
import { SeqSet, SocketLedger, checkAcks, checkRoom, rssTrend, seededRandom } from '../../../bench/load/soak-check.js';

describe('SeqSet', () => {
	it('keeps a contiguous run and the seqs above it', () => {
		const set = new SeqSet();
		for (const seq of [1, 2, 4, 6]) expect(set.add(seq)).toBe(true);
		expect(set.add(2)).toBe(false);
		expect(set.size).toBe(4);
		expect(set.missing(7)).toEqual([3, 5, 7]);
		expect(set.missingCount(7)).toBe(3);
		expect(set.add(3)).toBe(true);
		expect(set.upTo).toBe(4);
		expect(set.extra(5)).toEqual([6]);
	});
});

describe('SocketLedger', () => {
	it('passes a socket that got every message once: live, own and synced after a reconnect', () => {
		const ledger = new SocketLedger();
		ledger.connected();
		ledger.live(1);
		ledger.own(2);
		ledger.live(3);
		ledger.connected(); // a flap: 4 and 5 went by while it was away
		ledger.synced(3);
		ledger.synced(4);
		ledger.synced(5);
		ledger.live(5); // pushed after the rejoin and also in the sync page: an upsert, no duplicate
		ledger.live(6);
		expect(ledger.check(6)).toEqual({ missing: 0, missingSample: [], extra: [] });
		expect([ledger.duplicated, ledger.reordered]).toEqual([0, 0]);
	});

	it('catches a message pushed twice, on one connection or across a reconnect', () => {
		const ledger = new SocketLedger();
		ledger.connected();
		ledger.live(1);
		ledger.live(1);
		ledger.connected();
		ledger.live(2);
		ledger.connected();
		ledger.live(2);
		expect(ledger.duplicated).toBe(2);
		expect(ledger.samples[0]).toContain('seq 1 delivered twice');
	});

	it('catches its own message pushed back to it', () => {
		const ledger = new SocketLedger();
		ledger.connected();
		ledger.own(1);
		ledger.live(1);
		expect(ledger.duplicated).toBe(1);
	});

	it('catches a live push out of seq order, but not across a reconnect', () => {
		const ledger = new SocketLedger();
		ledger.connected();
		ledger.live(2);
		ledger.live(1);
		expect(ledger.reordered).toBe(1);
		ledger.connected();
		ledger.live(4);
		ledger.connected();
		ledger.live(3);
		expect(ledger.reordered).toBe(1);
	});

	it('catches a message never received, and one the room does not hold', () => {
		const ledger = new SocketLedger();
		ledger.connected();
		for (const seq of [1, 2, 4, 5, 9]) ledger.live(seq);
		expect(ledger.check(6)).toEqual({ missing: 2, missingSample: [3, 6], extra: [9] });
	});
});

describe('checkAcks', () => {
	const sent: Array<[string, number]> = [
		['a', 0],
		['b', 0],
		['c', 1]
	];

	it('counts each room and finds nothing wrong in clean records (a resend acked at its first seq)', () => {
		const result = checkAcks(sent, [
			['a', 0, 1],
			['b', 0, 2],
			['c', 1, 1],
			['b', 0, 2]
		]);
		expect([...result.rooms]).toEqual([
			[0, 2],
			[1, 1]
		]);
		expect([result.acked, result.lost, result.duplicated, result.gaps, result.unknown]).toEqual([3, 0, 0, 0, 0]);
	});

	it('catches a send never acked', () => {
		const result = checkAcks(sent, [
			['a', 0, 1],
			['c', 1, 1]
		]);
		expect(result.lost).toBe(1);
		expect(result.samples).toEqual(['b (room 0) never acked']);
	});

	it('catches a client_id stored twice (two seqs) and a seq given twice', () => {
		expect(checkAcks(sent, [['a', 0, 1], ['a', 0, 3], ['b', 0, 2], ['c', 1, 1]]).duplicated).toBe(1);
		expect(checkAcks(sent, [['a', 0, 1], ['b', 0, 1], ['c', 1, 1]]).duplicated).toBe(1);
	});

	it('catches a room whose seqs are not 1..n, and an ack for a room it was not sent to', () => {
		expect(checkAcks(sent, [['a', 0, 1], ['b', 0, 3], ['c', 1, 1]]).gaps).toBe(1);
		expect(checkAcks(sent, [['a', 0, 1], ['b', 0, 2], ['c', 0, 3]]).unknown).toBe(1);
	});
});

describe('checkRoom', () => {
	const acked = new Map([
		['a', 1],
		['b', 2]
	]);
	it('passes a room holding exactly the acked messages', () => {
		expect(checkRoom(0, [['a', 1], ['b', 2]], acked)).toEqual([]);
	});
	it('catches a message missing, stored twice or at another seq', () => {
		expect(checkRoom(0, [['a', 1]], acked)).toEqual(['room 0: acked b not stored']);
		expect(checkRoom(0, [['a', 1], ['b', 2], ['b', 3]], acked)).toContain('room 0: b stored twice');
		expect(checkRoom(0, [['b', 1], ['a', 2]], acked)).toHaveLength(2);
	});
});

describe('rssTrend', () => {
	const points = (rss: number[]) => rss.map((rssMB, i) => ({ minutes: (i + 1) / 2, rssMB }));
	it('is too short under 6 intervals', () => {
		expect(rssTrend(points([100, 100, 100])).verdict).toBe('too short');
	});
	it('calls a warm-up followed by a plateau flat', () => {
		const trend = rssTrend(points([100, 150, 200, 201, 199, 200, 202, 198, 200]));
		expect(trend.verdict).toBe('flat');
		expect(Math.abs(trend.slopeMBPerMinute ?? Infinity)).toBeLessThan(1);
	});
	it('calls steady growth after warm-up rising', () => {
		const trend = rssTrend(points([100, 150, 200, 210, 220, 230, 240, 250, 260]));
		expect(trend.verdict).toBe('rising');
		expect(trend.slopeMBPerMinute).toBeCloseTo(20, 5);
	});
});

it('seededRandom replays the same draws for one seed', () => {
	const a = seededRandom(7);
	const b = seededRandom(7);
	const draws = Array.from({ length: 5 }, () => a());
	expect(Array.from({ length: 5 }, () => b())).toEqual(draws);
	expect(new Set(draws).size).toBe(5);
});
