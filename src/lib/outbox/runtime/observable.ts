/**
 * Observable values for the engine's outputs (connection, queue, error, topic
 * views). Each follows the Svelte store contract: `subscribe(listener)` calls
 * the listener at once with the current value, then on every change, and
 * returns the function that stops it. `get()` reads without subscribing.
 *
 * `ComputedValue` is lazy: the engine only marks it stale, and the value is
 * recomputed once per microtask at most, when someone reads or listens. That
 * keeps a 10,000-item flush from rebuilding a list or a view per item.
 */
import type { Unsubscribe } from '../ports.js';

/** A value that can be read and watched (a Svelte `Readable`, plus `get`). */
export interface Observable<T> {
	get(): T;
	subscribe(listener: (value: T) => void): Unsubscribe;
}

/** A value the engine sets; listeners are told synchronously when it changes (by `!==`). */
export class WritableValue<T> implements Observable<T> {
	#value: T;
	#listeners = new Set<(value: T) => void>();

	constructor(initial: T) {
		this.#value = initial;
	}

	get(): T {
		return this.#value;
	}

	set(value: T): void {
		if (value === this.#value) return;
		this.#value = value;
		for (const listener of [...this.#listeners]) listener(value);
	}

	subscribe(listener: (value: T) => void): Unsubscribe {
		this.#listeners.add(listener);
		listener(this.#value);
		return () => void this.#listeners.delete(listener);
	}
}

/** A value computed on demand; `invalidate()` schedules one recompute-and-notify per microtask. */
export class ComputedValue<T> implements Observable<T> {
	#compute: () => T;
	#value: T | undefined;
	#stale = true;
	#scheduled = false;
	#listeners = new Set<(value: T) => void>();
	#lastSent: T | undefined;

	constructor(compute: () => T) {
		this.#compute = compute;
	}

	get(): T {
		if (this.#stale) {
			this.#value = this.#compute();
			this.#stale = false;
		}
		return this.#value as T;
	}

	/** The inputs changed: recompute before the next read, and tell listeners soon. */
	invalidate(): void {
		this.#stale = true;
		if (this.#scheduled || this.#listeners.size === 0) return;
		this.#scheduled = true;
		queueMicrotask(() => {
			this.#scheduled = false;
			if (this.#listeners.size === 0) return;
			const value = this.get();
			if (value === this.#lastSent) return;
			this.#lastSent = value;
			for (const listener of [...this.#listeners]) listener(value);
		});
	}

	subscribe(listener: (value: T) => void): Unsubscribe {
		this.#listeners.add(listener);
		const value = this.get();
		this.#lastSent = value;
		listener(value);
		return () => void this.#listeners.delete(listener);
	}

	/** Listeners now watching. */
	get listenerCount(): number {
		return this.#listeners.size;
	}
}

/**
 * A value computed from other observables: it listens to its sources while
 * it has listeners of its own (started by the first, stopped by the last,
 * like a Svelte store) and recomputes at most once per microtask; read
 * without listeners, it computes from the sources' current values.
 */
export class DerivedValue<T> implements Observable<T> {
	#inner: ComputedValue<T>;
	#sources: ReadonlyArray<Observable<unknown>>;
	#stops: Unsubscribe[] = [];
	#listeners = 0;

	constructor(sources: ReadonlyArray<Observable<unknown>>, compute: () => T) {
		this.#sources = sources;
		this.#inner = new ComputedValue(compute);
	}

	get(): T {
		if (this.#listeners === 0) this.#inner.invalidate();
		return this.#inner.get();
	}

	/** An input outside the sources changed. */
	invalidate(): void {
		this.#inner.invalidate();
	}

	subscribe(listener: (value: T) => void): Unsubscribe {
		if (this.#listeners++ === 0) {
			this.#inner.invalidate();
			// Each source calls back at once with its current value: nothing to do then.
			let starting = true;
			this.#stops = this.#sources.map((source) => source.subscribe(() => void (starting || this.#inner.invalidate())));
			starting = false;
		}
		const stop = this.#inner.subscribe(listener);
		let stopped = false;
		return () => {
			if (stopped) return;
			stopped = true;
			stop();
			if (--this.#listeners === 0) for (const s of this.#stops.splice(0)) s();
		};
	}
}
