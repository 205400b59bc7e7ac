/**
 * Where the engine's events go, in order: the figures, the DOM
 * (`outbox:<name>` CustomEvents), the typed emitter, then each rolled-back
 * action's `undo`. A listener's or an undo's bug never stops the engine: it
 * is rethrown on its own (a microtask), where it can be seen.
 */
import type { Emitter, OutboxEvent, OutboxEventMap } from '../core/events.js';
import { domEventType, emitAll } from '../core/events.js';
import type { ActionRegistry } from './action-registry.js';
import type { EngineHealth } from './health.js';

export function createEventSink(emitter: Emitter<OutboxEventMap>, registry: ActionRegistry, health: () => EngineHealth, target: EventTarget | null) {
	return (events: readonly OutboxEvent[]): void => {
		health().observe(events);
		if (target) for (const event of events) target.dispatchEvent(new CustomEvent(domEventType(event.type), { detail: event.detail }));
		guarded(() => emitAll(emitter, events));
		for (const event of events) {
			if (event.type !== 'call-rolled-back') continue;
			const { item, reason } = event.detail;
			const undo = registry.get(item.type)?.undo;
			if (undo) guarded(() => undo(item, reason));
		}
	};
}

function guarded(run: () => void): void {
	try {
		run();
	} catch (error) {
		queueMicrotask(() => {
			throw error;
		});
	}
}
