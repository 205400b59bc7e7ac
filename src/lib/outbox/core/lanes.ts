/**
 * Lanes: which queued items may be pushed now. One lane per topic; within a
 * lane, items go in creation order. The scan of a lane starts at its head
 * and stops at the first item that is not ready:
 * - `sending` holds the lane (one batch in flight per lane, so a retryable
 *   failure can never be overtaken by a later action);
 * - `queued` with `nextAttemptAt` in the future holds it (backoff);
 * - failed items are not in the lane at all (`queue-state.ts`), so a
 *   permanent failure lets the lane go on.
 * Lanes are independent. Cost: O(lanes + items returned).
 */
import { LIMITS } from '../../protocol/events.js';
import type { QueueItem } from './queue-item.js';
import type { QueueState } from './queue-state.js';

/** The ready prefix of one lane. */
export interface LaneBatch {
	topic: string;
	items: QueueItem[];
}

export interface NextBatchOptions {
	/** Largest batch per lane (default and maximum: `send_batch`'s 100). */
	maxBatch?: number;
	/** Whether the transport can take pushes now; when false nothing is ready. */
	online: boolean;
}

/** Whether one item may go at `now`, judged alone (its lane may still hold it). */
export function isReady(item: QueueItem, now: number): boolean {
	return item.status === 'queued' && (item.nextAttemptAt === null || item.nextAttemptAt <= now);
}

/**
 * For each lane, the items that may be pushed now: the longest ready prefix,
 * at most `maxBatch` long. Lanes with nothing ready are left out.
 *
 * @example
 * for (const { topic, items } of nextBatch(queue, clock.now(), { online: true })) {
 *   reduceQueue(queue, { type: 'sendStarted', ids: items.map((i) => i.id), now });
 *   // push items.length === 1 ? the item's own event : send_batch
 * }
 */
export function nextBatch(state: QueueState, now: number, options: NextBatchOptions): LaneBatch[] {
	const maxBatch = options.maxBatch ?? LIMITS.batchMaxActions;
	if (!Number.isInteger(maxBatch) || maxBatch < 1 || maxBatch > LIMITS.batchMaxActions) {
		throw new TypeError(`nextBatch: maxBatch must be an integer from 1 to ${LIMITS.batchMaxActions}, got ${maxBatch}`);
	}
	if (!options.online) return [];
	const batches: LaneBatch[] = [];
	for (const [topic, lane] of state.lanes) {
		const items: QueueItem[] = [];
		for (let i = 0; i < maxBatch; i++) {
			const id = lane.at(i);
			if (id === undefined) break;
			const item = state.items.get(id);
			if (!item || !isReady(item, now)) break;
			items.push(item);
		}
		if (items.length > 0) batches.push({ topic, items });
	}
	return batches;
}

/**
 * The earliest `nextAttemptAt` among the lane heads that wait on backoff, or
 * null when none does (lanes empty, in flight, or ready without delay). The
 * runtime sets one timer for it; a time already past means ready now. O(lanes).
 */
export function nextWakeAt(state: QueueState): number | null {
	let earliest: number | null = null;
	for (const lane of state.lanes.values()) {
		const head = lane.at(0);
		const item = head === undefined ? undefined : state.items.get(head);
		if (item?.status !== 'queued' || item.nextAttemptAt === null) continue;
		if (earliest === null || item.nextAttemptAt < earliest) earliest = item.nextAttemptAt;
	}
	return earliest;
}

/** Whether any lane has an item in flight (the runtime's "not idle yet"). */
export function hasInFlight(state: QueueState): boolean {
	return state.counts.sending > 0;
}
