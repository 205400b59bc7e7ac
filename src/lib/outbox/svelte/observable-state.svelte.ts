/**
 * The rune-class building block: an engine observable as `$state`, exposed
 * read-only through `current`. It watches the engine while something reads
 * it reactively (started by the first reader, stopped by the last, through
 * `createSubscriber`); read outside any effect, it returns the engine's
 * value directly, so it is never stale.
 */
import { createSubscriber } from 'svelte/reactivity';
import type { Observable } from '../runtime/index.js';

export class ObservableState<T> {
	#source: Observable<T>;
	#value = $state.raw() as T;
	#subscribe: () => void;

	constructor(source: Observable<T>) {
		this.#source = source;
		this.#value = source.get();
		this.#subscribe = createSubscriber(() =>
			source.subscribe((value) => {
				this.#value = value;
			})
		);
	}

	/** The current value (reactive inside effects and templates). */
	get current(): T {
		if (!$effect.tracking()) return this.#source.get();
		this.#subscribe();
		return this.#value;
	}
}
