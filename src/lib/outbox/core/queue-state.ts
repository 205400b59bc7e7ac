/**
 * The queue's state and its bookkeeping (`putItem`, `dropItem`), kept apart
 * from the reducer's decisions in `queue.ts`.
 *
 * Structure, and why: a 10,000-item queue must take an item change in O(1),
 * so the state is a *mutable container of immutable items* with an explicit
 * change set, not a persistent copy per change:
 * - `items`: Map id -> item. Items are never mutated, only replaced, so a
 *   reader can tell a changed item by identity.
 * - `lanes`: Map topic -> `Lane`, the ids of the topic's sendable items
 *   (`queued` or `sending`) in creation order. Failed items leave their lane
 *   (they are kept in `items`), so the next-ready scan starts at each lane's
 *   head: O(lanes + batch), never O(queue).
 * - `topics`: Map topic -> Set of every item id of the topic (failed too),
 *   for the topic's optimistic view.
 * - `counts` per status, and `version`, bumped once per action that changed
 *   anything (subscribers compare versions).
 * Only `reduceQueue` writes; everyone else reads.
 */
import type { QueueItem, QueueItemStatus } from './queue-item.js';
import { compareItems } from './queue-item.js';
import { Lane } from './lane.js';
import type { RetryOptions } from './retry-policy.js';
import { resolveRetryOptions } from './retry-policy.js';

/** A sending run, from the first push after idle to `idle` (for the processing events). */
export interface ProcessingRun {
	startedAt: number;
	reconciled: number;
	failed: number;
}

/** The queue's state. Read-only outside `reduceQueue` (see the file comment). */
export interface QueueState {
	readonly items: Map<string, QueueItem>;
	readonly lanes: Map<string, Lane>;
	readonly topics: Map<string, Set<string>>;
	readonly dedupe: Map<string, string>;
	readonly counts: Record<QueueItemStatus, number>;
	run: ProcessingRun | null;
	version: number;
	readonly policy: RetryOptions;
}

/**
 * An empty queue using the given retry policy (defaults: `DEFAULT_RETRY_OPTIONS`).
 *
 * @example
 * let queue = createQueueState({ maxRetries: 5, random: seededRandom(1) });
 */
export function createQueueState(policy: Partial<RetryOptions> = {}): QueueState {
	return {
		items: new Map(),
		lanes: new Map(),
		topics: new Map(),
		dedupe: new Map(),
		counts: { queued: 0, sending: 0, failed: 0 },
		run: null,
		version: 0,
		policy: resolveRetryOptions(policy)
	};
}

/** The ids written and removed by one action; an id is in at most one of them. */
export class ChangeSet {
	readonly changed = new Set<string>();
	readonly removed = new Set<string>();
}

const isInLane = (item: QueueItem | undefined): boolean => item !== undefined && item.status !== 'failed';

/** Store `next` (new or replacing an item with the same id), keeping every index right. */
export function putItem(state: QueueState, next: QueueItem, changes: ChangeSet): void {
	const prev = state.items.get(next.id);
	if (prev === next) return;
	if (prev && prev.topic !== next.topic) dropItem(state, prev.id, changes);
	const before = state.items.get(next.id);
	if (before) state.counts[before.status]--;
	state.items.set(next.id, next);
	state.counts[next.status]++;
	if (isInLane(before) && !isInLane(next)) laneOf(state, next.topic).remove(next.id);
	if (!isInLane(before) && isInLane(next)) laneOf(state, next.topic).insert(next.id, byCreation(state));
	if (!before) topicSet(state, next.topic).add(next.id);
	if (next.dedupeKey !== undefined) state.dedupe.set(next.dedupeKey, next.id);
	cleanTopic(state, next.topic);
	changes.removed.delete(next.id);
	changes.changed.add(next.id);
}

/** Remove an item; returns it, or undefined when there was none. */
export function dropItem(state: QueueState, id: string, changes: ChangeSet): QueueItem | undefined {
	const item = state.items.get(id);
	if (!item) return undefined;
	state.items.delete(id);
	state.counts[item.status]--;
	if (isInLane(item)) state.lanes.get(item.topic)?.remove(id);
	state.topics.get(item.topic)?.delete(id);
	if (item.dedupeKey !== undefined && state.dedupe.get(item.dedupeKey) === id) state.dedupe.delete(item.dedupeKey);
	cleanTopic(state, item.topic);
	changes.changed.delete(id);
	changes.removed.add(id);
	return item;
}

/** Forget every item at once. */
export function dropAll(state: QueueState, changes: ChangeSet): void {
	for (const id of state.items.keys()) {
		changes.changed.delete(id);
		changes.removed.add(id);
	}
	state.items.clear();
	state.lanes.clear();
	state.topics.clear();
	state.dedupe.clear();
	state.counts.queued = state.counts.sending = state.counts.failed = 0;
}

function laneOf(state: QueueState, topic: string): Lane {
	let lane = state.lanes.get(topic);
	if (!lane) state.lanes.set(topic, (lane = new Lane()));
	return lane;
}

function topicSet(state: QueueState, topic: string): Set<string> {
	let set = state.topics.get(topic);
	if (!set) state.topics.set(topic, (set = new Set()));
	return set;
}

function cleanTopic(state: QueueState, topic: string): void {
	if (state.lanes.get(topic)?.size === 0) state.lanes.delete(topic);
	if (state.topics.get(topic)?.size === 0) state.topics.delete(topic);
}

function byCreation(state: QueueState) {
	return (a: string, b: string): number => {
		const x = state.items.get(a);
		const y = state.items.get(b);
		return x && y ? compareItems(x, y) : 0;
	};
}

/** The item with this id, if any. */
export function getItem(state: QueueState, id: string): QueueItem | undefined {
	return state.items.get(id);
}

/** Number of items kept (queued, sending and failed). */
export function countItems(state: QueueState): number {
	return state.items.size;
}

/** Every item in creation order (for the subscribable list). */
export function listItems(state: QueueState): QueueItem[] {
	return [...state.items.values()].sort(compareItems);
}

/** The items of one topic (failed too) in creation order, for its optimistic view. */
export function itemsOfTopic(state: QueueState, topic: string): QueueItem[] {
	const ids = state.topics.get(topic);
	if (!ids) return [];
	const out: QueueItem[] = [];
	for (const id of ids) {
		const item = state.items.get(id);
		if (item) out.push(item);
	}
	return out.sort(compareItems);
}
