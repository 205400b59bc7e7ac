/**
 * The store with its writes timed for `outbox_store_commit_duration_seconds`.
 * A Proxy, so that every other method of the port (present or added later)
 * passes through untouched; the timed wrappers are made once, not per call.
 */
import type { ChatStore } from '../store/port.js';
import { STORE_WRITES, type Metrics } from './metrics.js';

export function instrumentStore(store: ChatStore, metrics: Metrics): ChatStore {
	const timed = new Map<PropertyKey, unknown>();
	for (const operation of STORE_WRITES) {
		const write = store[operation] as (...args: unknown[]) => Promise<unknown>;
		if (typeof write !== 'function') continue;
		timed.set(operation, async (...args: unknown[]) => {
			const started = performance.now();
			try {
				const result = await write.apply(store, args);
				metrics.storeWrite(operation, (performance.now() - started) / 1000, true);
				return result;
			} catch (err) {
				metrics.storeWrite(operation, (performance.now() - started) / 1000, false);
				throw err;
			}
		});
	}
	// A method replaced on the wrapper (a test's spy) wins over the timed one, as it would on a plain object.
	const replaced = new Map<PropertyKey, unknown>();
	return new Proxy(store, {
		get(target, property, receiver) {
			return replaced.get(property) ?? timed.get(property) ?? Reflect.get(target, property, receiver);
		},
		set(_target, property, value) {
			replaced.set(property, value);
			return true;
		}
	});
}
