/**
 * Time-sortable client ids, ULID-like: 10 characters of 48-bit millisecond
 * time then 16 characters of 80-bit randomness, in lowercase Crockford
 * base32 (`0-9a-z` without `i l o u`), so ids sort as strings in creation
 * order and satisfy the server's `client_id` schema `[A-Za-z0-9_-]{1,64}`.
 * Within one millisecond (or when the clock steps back) the random part is
 * incremented instead of drawn again, so ids from one generator are
 * strictly increasing.
 */
import type { IdGenerator } from '../ports.js';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const TIME_LEN = 10;
const RANDOM_LEN = 16;
const MAX_TIME = 2 ** 48 - 1;

/** Length of every id made here. */
export const CLIENT_ID_LENGTH = TIME_LEN + RANDOM_LEN;

export interface IdGeneratorOptions {
	/** Milliseconds since the epoch (the clock port's `now`). */
	now: () => number;
	/** Uniform in [0, 1) (default `Math.random`; inject a seeded one in tests). */
	random?: () => number;
}

/**
 * A generator of time-sortable ids.
 *
 * @example
 * const ids = createIdGenerator({ now: () => clock.now() });
 * ids.next(); // '01jd3v8q5x7k2m9n4p6r8s0t2w'
 */
export function createIdGenerator(options: IdGeneratorOptions): IdGenerator {
	const random = options.random ?? Math.random;
	let lastTime = -1;
	const digits: number[] = new Array(RANDOM_LEN).fill(0);

	return {
		next(): string {
			let time = Math.floor(options.now());
			if (!Number.isFinite(time) || time < 0 || time > MAX_TIME) {
				throw new RangeError(`id clock must give ms in [0, 2^48), got ${time}`);
			}
			if (time <= lastTime) {
				time = lastTime;
				if (!increment(digits)) {
					// 2^80 ids in one ms: borrow the next millisecond to stay increasing.
					time = lastTime + 1;
					draw(digits, random);
				}
			} else {
				draw(digits, random);
			}
			lastTime = time;
			return encodeTime(time) + digits.map((d) => ALPHABET[d]).join('');
		}
	};
}

/** The creation time (ms) encoded in an id made by `createIdGenerator`. */
export function decodeTime(id: string): number {
	if (id.length !== CLIENT_ID_LENGTH) throw new TypeError(`not a ${CLIENT_ID_LENGTH}-character kit id: ${id}`);
	let time = 0;
	for (const ch of id.slice(0, TIME_LEN)) {
		const value = ALPHABET.indexOf(ch);
		if (value < 0) throw new TypeError(`not a kit id (bad character ${ch}): ${id}`);
		time = time * 32 + value;
	}
	return time;
}

function encodeTime(time: number): string {
	let out = '';
	for (let i = 0; i < TIME_LEN; i++) {
		out = ALPHABET[time % 32] + out;
		time = Math.floor(time / 32);
	}
	return out;
}

function draw(digits: number[], random: () => number): void {
	for (let i = 0; i < RANDOM_LEN; i++) {
		const r = random();
		digits[i] = r >= 0 && r < 1 ? Math.floor(r * 32) : 0;
	}
}

/** Add one to the base-32 number in `digits`; false on overflow. */
function increment(digits: number[]): boolean {
	for (let i = RANDOM_LEN - 1; i >= 0; i--) {
		if ((digits[i] as number) < 31) {
			digits[i] = (digits[i] as number) + 1;
			return true;
		}
		digits[i] = 0;
	}
	return false;
}
