/**
 * Queue figures for the UI and for monitoring, as a pure fold over the
 * kit's events: how deep the queue is, how old its oldest unsent item,
 * how long confirmed actions took from `add` to the server's reply (p50 and
 * p95 over the last `FIGURES_WINDOW`), the last flush, retries and the
 * failure rate. Updated by the events the engine emits anyway: no polling.
 * The age of the oldest item is `now - oldestUnsentAt`, computed where it
 * is shown (it grows with time, not with events).
 */
import type { OutboxEvent } from './events.js';
import type { QueueState } from './queue-state.js';

/** How many recent outcomes the latency percentiles and the failure rate cover. */
export const FIGURES_WINDOW = 500;

export interface QueueFigures {
	/** Items in the queue: queued, sending and failed. */
	depth: number;
	/** Items failed and kept (waiting for Retry or Discard). */
	failed: number;
	/** `createdAt` of the oldest item not yet confirmed (failed ones included), or null when the queue is empty. */
	oldestUnsentAt: number | null;
	/** The last sending run: how many it confirmed, how long it took (ms), when it ended. */
	lastFlush: { confirmed: number; failed: number; ms: number; at: number } | null;
	/** From `add` to the server's confirmation, over the recent window (ms). */
	latencyP50: number | null;
	latencyP95: number | null;
	/** Attempts that failed and were scheduled again (since the engine started). */
	retries: number;
	/** Failed / (confirmed + failed) over the recent window, 0..1; null before any outcome. */
	failureRate: number | null;
	/** Confirmed and failed since the engine started. */
	confirmed: number;
	failedTotal: number;
}

/** The rolling samples behind the percentiles and the rate (kept beside the figures). */
export interface FigureSamples {
	/** Latencies of recent confirmations (ms), oldest first. */
	latencies: number[];
	/** Recent outcomes, oldest first: true for a failure. */
	outcomes: boolean[];
}

export function createFigureSamples(): FigureSamples {
	return { latencies: [], outcomes: [] };
}

/** What the figures learn from events (everything but the queue's own shape). */
export type EventFigures = Omit<QueueFigures, 'depth' | 'failed' | 'oldestUnsentAt'>;

export const EMPTY_EVENT_FIGURES: EventFigures = Object.freeze({
	lastFlush: null,
	latencyP50: null,
	latencyP95: null,
	retries: 0,
	failureRate: null,
	confirmed: 0,
	failedTotal: 0
});

/**
 * Fold events into the figures (at `now`); `retried` counts attempts that
 * failed and were scheduled again (the reducer emits no event for those).
 * Returns `figures` itself when nothing changed.
 *
 * @example
 * figures = foldFigures(figures, samples, result.events, 0, clock.now());
 */
export function foldFigures(figures: EventFigures, samples: FigureSamples, events: readonly OutboxEvent[], retried: number, now: number): EventFigures {
	let { lastFlush, confirmed, failedTotal } = figures;
	let sampled = false;
	for (const event of events) {
		if (event.type === 'call-reconciled') {
			confirmed++;
			push(samples.latencies, Math.max(0, now - event.detail.item.createdAt));
			push(samples.outcomes, false);
			sampled = true;
		} else if (event.type === 'call-failed') {
			failedTotal++;
			push(samples.outcomes, true);
			sampled = true;
		} else if (event.type === 'queue-processing-complete') {
			const d = event.detail;
			lastFlush = { confirmed: d.reconciled, failed: d.failed, ms: d.finishedAt - d.startedAt, at: d.finishedAt };
		}
	}
	if (!sampled && retried === 0 && lastFlush === figures.lastFlush) return figures;
	return {
		lastFlush,
		latencyP50: sampled ? percentile(samples.latencies, 0.5) : figures.latencyP50,
		latencyP95: sampled ? percentile(samples.latencies, 0.95) : figures.latencyP95,
		retries: figures.retries + retried,
		failureRate: sampled ? rate(samples.outcomes) : figures.failureRate,
		confirmed,
		failedTotal
	};
}

/** The figures: what events taught, plus the queue's shape now. O(items). */
export function queueFigures(events: EventFigures, queue: QueueState): QueueFigures {
	let oldest: number | null = null;
	for (const item of queue.items.values()) if (oldest === null || item.createdAt < oldest) oldest = item.createdAt;
	return { ...events, depth: queue.items.size, failed: queue.counts.failed, oldestUnsentAt: oldest };
}

function push<T>(list: T[], value: T): void {
	list.push(value);
	if (list.length > FIGURES_WINDOW) list.splice(0, list.length - FIGURES_WINDOW);
}

/** Nearest-rank percentile (q in 0..1) of the samples, or null when there are none. */
export function percentile(values: readonly number[], q: number): number | null {
	if (values.length === 0) return null;
	const sorted = [...values].sort((a, b) => a - b);
	return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

function rate(outcomes: readonly boolean[]): number | null {
	if (outcomes.length === 0) return null;
	return outcomes.filter(Boolean).length / outcomes.length;
}
