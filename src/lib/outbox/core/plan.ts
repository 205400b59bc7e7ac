/**
 * The flush planner: which queued items may go now, and how they are
 * grouped. One planner for every driver of the queue — the page's send loop
 * and the service worker's background flush — so lanes, backoff and
 * batching are decided once.
 *
 * One lane per topic; within a lane, items go in creation order. The scan of
 * a lane starts at its head and stops at the first item that is not ready:
 * - `sending` holds the lane (one batch in flight per lane, so a retryable
 *   failure can never be overtaken by a later action);
 * - `queued` with `nextAttemptAt` in the future holds it (backoff);
 * - failed items are not in the lane at all (`queue-state.ts`), so a
 *   permanent failure lets the lane go on.
 * Batching: a run of *batchable* types goes together (up to `maxBatch`); a
 * type that is not batchable goes alone, and a batch stops before one.
 * Lanes are independent. Cost: O(lanes + items returned).
 */
import type { QueueItem } from './queue-item.js';
import type { QueueState } from './queue-state.js';

/** The most actions one batch may carry (and the default): Outbox's `send_batch` limit. */
export const MAX_BATCH = 100;

/** What may go together in one lane now. */
export interface LaneBatch {
	topic: string;
	/** In creation order; never empty. */
	items: QueueItem[];
	/** Every item's type is batchable: the batch can go as one batch request (even a batch of one). */
	batchable: boolean;
}

export interface FlushPolicy {
	/** Largest batch (1–100, default 100). */
	maxBatch?: number;
	/** Whether an action type may ride in a batch with others (default: none may). */
	isBatchable?: (type: string) => boolean;
}

/** Whether one item may go at `now`, judged alone (its lane may still hold it). */
export function isReady(item: QueueItem, now: number): boolean {
	return item.status === 'queued' && (item.nextAttemptAt === null || item.nextAttemptAt <= now);
}

/**
 * For each lane, what may be pushed now: the lane's ready prefix, cut to one
 * batch (see the file comment). Lanes with nothing ready are left out.
 *
 * @example
 * for (const { topic, items, batchable } of planFlush(queue, clock.now(), { isBatchable })) {
 *   reduceQueue(queue, { type: 'sendStarted', ids: items.map((i) => i.id), now });
 *   // push items.length > 1 ? a batch : the item's own event
 * }
 */
export function planFlush(state: QueueState, now: number, policy: FlushPolicy = {}): LaneBatch[] {
	const maxBatch = policy.maxBatch ?? MAX_BATCH;
	if (!Number.isInteger(maxBatch) || maxBatch < 1 || maxBatch > MAX_BATCH) {
		throw new TypeError(`planFlush: maxBatch must be an integer from 1 to ${MAX_BATCH}, got ${maxBatch}`);
	}
	const isBatchable = policy.isBatchable ?? (() => false);
	const batches: LaneBatch[] = [];
	for (const [topic, lane] of state.lanes) {
		const head = lane.at(0);
		const first = head === undefined ? undefined : state.items.get(head);
		if (!first || !isReady(first, now)) continue;
		if (!isBatchable(first.type)) {
			batches.push({ topic, items: [first], batchable: false });
			continue;
		}
		const items: QueueItem[] = [first];
		for (let i = 1; i < maxBatch; i++) {
			const id = lane.at(i);
			const item = id === undefined ? undefined : state.items.get(id);
			if (!item || !isReady(item, now) || !isBatchable(item.type)) break;
			items.push(item);
		}
		batches.push({ topic, items, batchable: true });
	}
	return batches;
}

/**
 * The earliest `nextAttemptAt` among the lane heads that wait on backoff, or
 * null when none does (lanes empty, in flight, or ready without delay). A
 * driver sets one timer for it; a time already past means ready now. O(lanes).
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

/** Whether a lane has nothing in flight and nothing ready to go (its topic may sync now). */
export function isLaneFlushed(state: QueueState, topic: string, now: number): boolean {
	const head = state.lanes.get(topic)?.at(0);
	const item = head === undefined ? undefined : state.items.get(head);
	if (!item) return true;
	return item.status !== 'sending' && !isReady(item, now);
}
