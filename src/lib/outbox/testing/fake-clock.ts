/**
 * A `Clock` under the test's control: time moves only when told to, and due
 * timers fire in order of due time (then of creation), each seeing `now()`
 * equal to its due time. Timers a callback sets are honoured in the same
 * advance when they fall due within it.
 */
import type { Clock, TimerHandle } from '../ports.js';

interface Timer {
	id: number;
	at: number;
	callback: () => void;
}

/**
 * @example
 * const clock = new FakeClock(0);
 * clock.setTimeout(() => log.push(clock.now()), 100);
 * clock.advance(100); // log: [100]
 */
export class FakeClock implements Clock {
	#now: number;
	#timers: Timer[] = [];
	#nextId = 1;

	constructor(start = 0) {
		this.#now = start;
	}

	now(): number {
		return this.#now;
	}

	setTimeout(callback: () => void, ms: number): TimerHandle {
		const id = this.#nextId++;
		const at = this.#now + Math.max(0, Number.isFinite(ms) ? ms : 0);
		const timers = this.#timers;
		// Keep timers sorted by (at, id): after every timer due at the same time or earlier.
		let lo = 0;
		let hi = timers.length;
		while (lo < hi) {
			const mid = (lo + hi) >>> 1;
			if ((timers[mid] as Timer).at <= at) lo = mid + 1;
			else hi = mid;
		}
		timers.splice(lo, 0, { id, at, callback });
		return id;
	}

	clearTimeout(handle: TimerHandle): void {
		const index = this.#timers.findIndex((timer) => timer.id === handle);
		if (index >= 0) this.#timers.splice(index, 1);
	}

	/** Timers not yet fired. */
	get pendingTimers(): number {
		return this.#timers.length;
	}

	/** Due time of the next timer, or null. */
	nextTimerAt(): number | null {
		return this.#timers[0]?.at ?? null;
	}

	/** Move time forward by `ms`, firing due timers in order; returns how many fired. */
	advance(ms: number): number {
		if (!(ms >= 0)) throw new RangeError(`advance(ms) needs ms >= 0, got ${ms}`);
		const target = this.#now + ms;
		let fired = 0;
		while (this.#fireNext(target)) fired++;
		this.#now = target;
		return fired;
	}

	/**
	 * Like `advance`, but lets pending promise callbacks run before and after
	 * each timer (a real macrotask turn), so async code driven by timers
	 * (storage writes, transport replies) makes progress in step with time.
	 */
	async advanceAsync(ms: number): Promise<number> {
		if (!(ms >= 0)) throw new RangeError(`advanceAsync(ms) needs ms >= 0, got ${ms}`);
		const target = this.#now + ms;
		let fired = 0;
		await settle();
		while (this.#fireNext(target)) {
			fired++;
			await settle();
		}
		this.#now = target;
		await settle();
		return fired;
	}

	/** Fire every timer (and those they set), up to `limit` of them, jumping time forward. */
	runAll(limit = 100_000): number {
		let fired = 0;
		while (this.#timers.length > 0) {
			if (fired >= limit) throw new Error(`runAll: more than ${limit} timers fired; a timer keeps rescheduling itself`);
			this.#fireNext(Infinity);
			fired++;
		}
		return fired;
	}

	#fireNext(limit: number): boolean {
		const timer = this.#timers[0];
		if (!timer || timer.at > limit) return false;
		this.#timers.shift();
		this.#now = Math.max(this.#now, timer.at);
		timer.callback();
		return true;
	}
}

/** Wait one real macrotask turn: every promise callback queued so far has run. */
export function settle(): Promise<void> {
	const g = globalThis as { setImmediate?: (cb: () => void) => unknown };
	return new Promise((resolve) => {
		if (typeof g.setImmediate === 'function') g.setImmediate(resolve);
		else globalThis.setTimeout(resolve, 0);
	});
}
