import { describe, expect, it } from 'vitest';
import { createIdGenerator, decodeTime, CLIENT_ID_LENGTH } from '../../../src/lib/outbox/core/ids.js';
import { clientIdSchema } from '../../../src/lib/protocol/schemas.js';
import { seededRandom } from '../../../src/lib/outbox/testing/seeded-random.js';

describe('client ids', () => {
	it('are unique and strictly increasing over 100,000 ids in the same millisecond', () => {
		const ids = createIdGenerator({ now: () => 1_700_000_000_000, random: seededRandom(3) });
		const made: string[] = [];
		for (let i = 0; i < 100_000; i++) made.push(ids.next());
		expect(new Set(made).size).toBe(100_000);
		for (let i = 1; i < made.length; i++) {
			if (!((made[i - 1] as string) < (made[i] as string))) throw new Error(`not increasing at ${i}`);
		}
		expect(decodeTime(made[99_999] as string)).toBe(1_700_000_000_000);
	});

	it('sort by creation time as strings', () => {
		let t = 1000;
		const ids = createIdGenerator({ now: () => t, random: seededRandom(4) });
		const made: string[] = [];
		for (let i = 0; i < 200; i++) {
			t += i % 3; // some share a millisecond
			made.push(ids.next());
		}
		expect([...made].sort()).toEqual(made);
		expect(decodeTime(made[0] as string)).toBe(1000);
	});

	it('stay increasing when the clock steps back', () => {
		let t = 5000;
		const ids = createIdGenerator({ now: () => t, random: seededRandom(5) });
		const a = ids.next();
		t = 4000;
		const b = ids.next();
		expect(a < b).toBe(true);
		expect(decodeTime(b)).toBe(5000);
	});

	it('borrow the next millisecond when the random part overflows', () => {
		const ids = createIdGenerator({ now: () => 10, random: () => 0.99999999 });
		const a = ids.next(); // random part is all 'z'
		const b = ids.next();
		expect(a < b).toBe(true);
		expect(decodeTime(b)).toBe(11);
	});

	it('satisfy the server client_id schema', () => {
		const ids = createIdGenerator({ now: () => Date.now() });
		for (let i = 0; i < 1000; i++) {
			const id = ids.next();
			expect(id).toHaveLength(CLIENT_ID_LENGTH);
			expect(clientIdSchema.safeParse(id).success).toBe(true);
			expect(id).toMatch(/^[0-9a-hjkmnp-tv-z]+$/);
		}
	});

	it('refuse a clock outside 48 bits', () => {
		expect(() => createIdGenerator({ now: () => -1 }).next()).toThrow(RangeError);
		expect(() => createIdGenerator({ now: () => 2 ** 48 }).next()).toThrow(RangeError);
	});
});
