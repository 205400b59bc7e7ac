/**
 * Counts work in progress (channel events, HTTP requests) so a shutdown can
 * wait for it, and says when no more should start. Waiting costs one
 * promise per waiter, nothing per unit of work.
 */
export class InFlight {
	#count = 0;
	#draining = false;
	#waiters: Array<() => void> = [];

	/** Units running now. */
	get count(): number {
		return this.#count;
	}

	/** True once `drain()` was called: new work should be turned away. */
	get draining(): boolean {
		return this.#draining;
	}

	enter(): void {
		this.#count++;
	}

	leave(): void {
		this.#count--;
		// Woken on the next turn, not now: the work's own continuations (the reply
		// going out after the handler returned) run first.
		if (this.#count === 0 && this.#waiters.length) setImmediate(() => this.#wake());
	}

	#wake(): void {
		if (this.#count !== 0) return;
		for (const wake of this.#waiters.splice(0)) wake();
	}

	/** Stop taking new work. */
	drain(): void {
		this.#draining = true;
	}

	/** Resolves true once nothing runs, or false at `deadline` (ms since epoch) with work still running. */
	idle(deadline: number): Promise<boolean> {
		if (this.#count === 0) return Promise.resolve(true);
		return new Promise((resolve) => {
			const timer = setTimeout(() => resolve(this.#count === 0), Math.max(0, deadline - Date.now()));
			this.#waiters.push(() => {
				clearTimeout(timer);
				resolve(true);
			});
		});
	}
}
