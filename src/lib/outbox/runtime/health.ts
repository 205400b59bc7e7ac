/**
 * What the engine tells about itself beyond the queue: its figures (a fold
 * of its events plus the queue's shape, `core/figures.ts`) and whether its
 * storage can keep the queue durably. Both are lazy observables: the engine
 * only says what changed.
 */
import type { OutboxEvent } from '../core/events.js';
import { createFigureSamples, EMPTY_EVENT_FIGURES, foldFigures, queueFigures, type EventFigures, type QueueFigures } from '../core/figures.js';
import type { QueueState } from '../core/queue-state.js';
import type { QueueStorage, StorageDescription, Unsubscribe } from '../ports.js';
import { ComputedValue, type Observable } from './observable.js';
import type { OutboxError, StorageState } from './types.js';

export class EngineHealth {
	readonly figures: ComputedValue<QueueFigures>;
	readonly storage: ComputedValue<StorageState>;
	#events: EventFigures = EMPTY_EVENT_FIGURES;
	#samples = createFigureSamples();
	#info: StorageDescription = { driver: null, persisted: null };
	#now: () => number;
	readonly stop: Unsubscribe;

	constructor(queue: () => QueueState, storage: QueueStorage, error: Observable<OutboxError | null>, now: () => number) {
		this.#now = now;
		this.figures = new ComputedValue(() => queueFigures(this.#events, queue()));
		this.storage = new ComputedValue(() => storageState(this.#info, error.get()));
		this.stop = error.subscribe(() => this.storage.invalidate());
		void storage.describe?.().then(
			(info) => {
				this.#info = info;
				this.storage.invalidate();
			},
			() => {}
		);
	}

	/** The queue changed. */
	queueChanged(): void {
		this.figures.invalidate();
	}

	/** Events went out; `retried` attempts were scheduled again (the reducer emits nothing for those). */
	observe(events: readonly OutboxEvent[], retried = 0): void {
		const next = foldFigures(this.#events, this.#samples, events, retried, this.#now());
		if (next === this.#events) return;
		this.#events = next;
		this.figures.invalidate();
	}
}

/** What to tell the user about storage: an error first, then a driver that is not durable, then refused persistence. */
function storageState(info: StorageDescription, error: OutboxError | null): StorageState {
	let trouble: StorageState['trouble'] = null;
	if (error?.kind === 'quota' || error?.kind === 'unavailable') trouble = error.kind;
	else if (info.driver === 'localstorage') trouble = 'no-indexeddb';
	else if (info.persisted === false) trouble = 'not-persistent';
	return { driver: info.driver, persisted: info.persisted, trouble };
}
