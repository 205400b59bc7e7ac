/** The fault schedules' checker and generator: each rule catches what it is for. */
import { describe, expect, test } from 'vitest';
import { checkSchedule, type MadeAction, type ServerMessage } from '../../faults/checker.js';
import { FAULT_KINDS, generateSchedule } from '../../faults/schedule.js';

const made: MadeAction[] = [
	{ clientId: 'a1', room: 'r', author: 'u1', tab: 't1' },
	{ clientId: 'a2', room: 'r', author: 'u1', tab: 't1' },
	{ clientId: 'b1', room: 'r', author: 'u2', tab: 't2' }
];
const msg = (client_id: string, seq: number, author = client_id.startsWith('a') ? 'u1' : 'u2'): ServerMessage => ({ client_id, seq, author: { id: author } });
const good = { r: [msg('a1', 1), msg('b1', 2), msg('a2', 3)] };
const views = (ids: string[]) => [{ tab: 't1', room: 'r', clientIds: ids }];

describe('checkSchedule', () => {
	test('a faithful history passes', () => {
		expect(checkSchedule(made, good, views(['a1', 'b1', 'a2']))).toEqual([]);
	});
	test('a lost action', () => {
		expect(checkSchedule(made, { r: [msg('a1', 1), msg('a2', 2)] }, [])).toEqual(['lost: action b1 (room r, tab t2) is not on the server']);
	});
	test('a duplicate (applied twice: two seqs)', () => {
		const v = checkSchedule(made, { r: [...good.r, msg('b1', 4)] }, []);
		expect(v).toContain('duplicate: action b1 applied 2 times');
	});
	test('one tab reordered', () => {
		const v = checkSchedule(made, { r: [msg('a2', 1), msg('b1', 2), msg('a1', 3)] }, []);
		expect(v.some((line) => line.startsWith('reordered: room r, tab t1'))).toBe(true);
	});
	test('an action the user retried by hand after a refused session is checked for exactly-once, not for its place', () => {
		const late = { r: [msg('a2', 1), msg('b1', 2), msg('a1', 3)] };
		const retried = made.map((a) => (a.clientId === 'a1' ? { ...a, userRetried: true } : a));
		expect(checkSchedule(retried, late, [])).toEqual([]);
		expect(checkSchedule(retried, { r: [msg('a2', 1), msg('b1', 2)] }, [])).toEqual(['lost: action a1 (room r, tab t1) is not on the server']);
	});
	test('a seq gap', () => {
		const v = checkSchedule(made, { r: [msg('a1', 1), msg('b1', 2), msg('a2', 4)] }, []);
		expect(v).toEqual(['room r: seq 4 at position 3 (a gap or a repeat)']);
	});
	test('something nobody made, or under the wrong author', () => {
		expect(checkSchedule(made, { r: [...good.r, msg('zz', 4)] }, [])).toEqual(['room r: message zz (seq 4) was never made by a user']);
		expect(checkSchedule(made, { r: [msg('a1', 1, 'u2'), msg('b1', 2), msg('a2', 3)] }, [])).toEqual(['action a1 by u1 stored as by u2']);
	});
	test("a tab's view that differs from the server", () => {
		expect(checkSchedule(made, good, views(['a1', 'a2']))).toHaveLength(1);
	});
});

describe('generateSchedule', () => {
	test('the same seed gives the same schedule; another seed another', () => {
		expect(generateSchedule(7)).toEqual(generateSchedule(7));
		expect(generateSchedule(7)).not.toEqual(generateSchedule(8));
	});
	test('1–2 users of 2–3 tabs, 20–45 actions, 2–5 faults of the kinds asked, in action order', () => {
		for (let seed = 0; seed < 200; seed++) {
			const s = generateSchedule(seed, ['flap', 'cut']);
			expect(s.tabs.length).toBeGreaterThanOrEqual(1);
			expect(s.tabs.every((n) => n >= 2 && n <= 3)).toBe(true);
			expect(s.steps.length).toBeGreaterThanOrEqual(20);
			expect(s.steps.length).toBeLessThanOrEqual(45);
			expect(s.faults.length).toBeGreaterThanOrEqual(2);
			expect(s.faults.every((f) => f.kind === 'flap' || f.kind === 'cut')).toBe(true);
			expect(s.faults.map((f) => f.at)).toEqual([...s.faults.map((f) => f.at)].sort((a, b) => a - b));
		}
		const kinds = new Set(Array.from({ length: 200 }, (_, seed) => generateSchedule(seed).faults.map((f) => f.kind)).flat());
		// Every kind but node-kill, which only a cluster draws.
		expect([...kinds].sort()).toEqual(FAULT_KINDS.filter((k) => k !== 'node-kill').sort());
		const clusterKinds = new Set(Array.from({ length: 200 }, (_, seed) => generateSchedule(seed, FAULT_KINDS, 2).faults.map((f) => f.kind)).flat());
		expect([...clusterKinds].sort()).toEqual([...FAULT_KINDS].sort());
	});
});
