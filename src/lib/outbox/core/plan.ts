/**
 * The flush planner: which queued items may go now, and how they are
 * grouped. One planner for every driver of the queue — the page's send loop
 * and the service worker's background flush — so lanes, backoff and
 * batching are decided once.
 *
 * One lane per topic; within a lane, items go in creation order. The scan of
 * a lane starts at its head and stops at the first item that is not ready:
 * - `sending` holds the lane (by default one batch in flight per lane, so a
 *   retryable failure can never be overtaken by a later action);
 * - `queued` with `nextAttemptAt` in the future holds it (backoff);
 * - failed items are not in the lane at all (`queue-state.ts`), so a
 *   permanent failure lets the lane go on.
 * Batching: a run of *batchable* types goes together (up to `maxBatch`); a
 * type that is not batchable goes alone, and a batch stops before one.
 *
 * Pipelining (`depth` > 1): behind the batches of a lane already in flight
 * (or planned in the same call), further batchable runs may go, up to
 * `depth × maxBatch` items in flight per lane. Each such batch names in
 * `after` the last item of the batch just before it, which must be the
 * lane's last push still in flight (`chainEnd`); a server that honours
 * `after` (Outbox's `send_batch`) applies it only if that batch was applied,
 * and refuses it whole otherwise (`out_of_order`), so order still holds when
 * a batch fails. A batch follows only an item `canFollow` accepts (the driver
 * knows which items went in a batch request that a server can name).
 * Lanes are independent. Cost: O(lanes + items in flight + items returned).
 */
import type { QueueItem } from './queue-item.js';
import type { QueueState } from './queue-state.js';
import type { Lane } from './lane.js';

/** The most actions one batch may carry (and the default): Outbox's `send_batch` limit. */
export const MAX_BATCH = 100;

/** What may go together in one lane now. */
export interface LaneBatch {
	topic: string;
	/** In creation order; never empty. */
	items: QueueItem[];
	/** Every item's type is batchable: the batch can go as one batch request (even a batch of one). */
	batchable: boolean;
	/**
	 * Set when the batch goes behind another batch of its lane still in flight
	 * (or planned just before it): that batch's last item id. It must go as a
	 * batch request carrying `after`.
	 */
	after?: string;
}

/** The most batches one lane may have in flight (`depth`). */
export const MAX_DEPTH = 8;

export interface FlushPolicy {
	/** Largest batch (1–100, default 100). */
	maxBatch?: number;
	/** Whether an action type may ride in a batch with others (default: none may). */
	isBatchable?: (type: string) => boolean;
	/** Batches of one lane in flight at once (1–8, default 1; see the file comment). */
	depth?: number;
	/** Whether a batch may go behind this in-flight item, naming it in `after` (default: none may). */
	canFollow?: (id: string) => boolean;
	/**
	 * The last item of the lane's most recent push still in flight, if any
	 * (the driver's record). A batch goes behind others only when the lane's
	 * item just before it is that one: pushes chain in the order they were
	 * sent, which is not the lane's order when an item another tab made
	 * earlier arrives while later ones are in flight.
	 */
	chainEnd?: (topic: string) => string | undefined;
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
	const depth = policy.depth ?? 1;
	if (!Number.isInteger(depth) || depth < 1 || depth > MAX_DEPTH) {
		throw new TypeError(`planFlush: depth must be an integer from 1 to ${MAX_DEPTH}, got ${depth}`);
	}
	const isBatchable = policy.isBatchable ?? (() => false);
	const canFollow = policy.canFollow ?? (() => false);
	const at = (lane: Lane, i: number) => {
		const id = lane.at(i);
		return id === undefined ? undefined : state.items.get(id);
	};
	const batches: LaneBatch[] = [];
	for (const [topic, lane] of state.lanes) {
		// The lane's head batches in flight, then what may follow them.
		let i = 0;
		while (depth > 1 && at(lane, i)?.status === 'sending') i++;
		const first = at(lane, i);
		if (!first || !isReady(first, now)) continue;
		const chained = depth > 1 ? policy.chainEnd?.(topic) : undefined;
		let after: string | undefined;
		if (i > 0 || chained !== undefined) {
			// Behind the lane's item just before it, which must also be the last push in flight:
			// otherwise an item made earlier came in behind later ones in flight, or a push of the
			// lane is still out on a connection that went away; the lane waits for them to settle.
			after = lane.at(i - 1);
			if (after === undefined || (chained !== undefined && chained !== after)) continue;
			if (!canFollow(after) || !isBatchable(first.type)) continue;
		} else if (!isBatchable(first.type)) {
			batches.push({ topic, items: [first], batchable: false });
			continue;
		}
		let room = depth * maxBatch - i;
		while (room > 0) {
			const items: QueueItem[] = [];
			for (let item = at(lane, i); item && items.length < Math.min(maxBatch, room) && isReady(item, now) && isBatchable(item.type); item = at(lane, ++i)) {
				items.push(item);
			}
			if (items.length === 0) break;
			batches.push(after === undefined ? { topic, items, batchable: true } : { topic, items, batchable: true, after });
			after = (items[items.length - 1] as QueueItem).id;
			room -= items.length;
			if (depth === 1) break;
		}
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
