/**
 * The send loop: while the engine may send, take each lane's ready prefix
 * (`nextBatch`), mark it `sending`, push it (the item's own event, or
 * `send_batch` for several), and settle each item from the reply. Lanes of
 * different topics are in flight at the same time; within a lane the core
 * holds later items while a batch is out, so order is kept.
 *
 * One timer at most, at the earliest backoff end (`nextWakeAt`); every other
 * wake-up is an event (a change, a join, a reply), coalesced into one pump
 * per microtask. `idle` is reduced when nothing is in flight after a pump.
 */
import { EVENTS } from '../../protocol/events.js';
import type { LaneBatch } from '../core/lanes.js';
import { isReady, nextBatch, nextWakeAt } from '../core/lanes.js';
import type { QueueResult } from '../core/queue.js';
import type { Outcome, QueueItem } from '../core/queue-item.js';
import type { Clock, TimerHandle, Transport } from '../ports.js';
import type { ActionRegistry } from './action-registry.js';
import { wirePayload } from './action-registry.js';
import type { QueueStore } from './queue-store.js';
import type { BatchEntry } from './wire-outcomes.js';
import { outcomesOf } from './wire-outcomes.js';

export interface SendLoopHooks {
	store: QueueStore;
	transport: Transport;
	clock: Clock;
	registry: ActionRegistry;
	maxBatch: number;
	pushTimeoutMs: number;
	/** Leader, signed in, connected, not stopped. */
	canSend(): boolean;
	/** Join the topic if needed; true when it is joined now. */
	ensureJoined(topic: string): boolean;
	/** An item's outcome is known, just before it is reduced (rooms merge the confirmed message first: no flicker). */
	settling(item: QueueItem, outcome: Outcome): void;
	/** A reducer result from settling (sync requests, sign-in). */
	settled(result: QueueResult): void;
	/** After every pump (the engine starts syncs whose lanes are flushed). */
	pumped(): void;
}

export class SendLoop {
	#hooks: SendLoopHooks;
	#generation = 0;
	#scheduled = false;
	#timer: TimerHandle | null = null;
	#timerAt: number | null = null;

	constructor(hooks: SendLoopHooks) {
		this.#hooks = hooks;
	}

	/** Pump soon (once per microtask, however many times asked). */
	schedule(): void {
		if (this.#scheduled) return;
		this.#scheduled = true;
		queueMicrotask(() => {
			this.#scheduled = false;
			this.pump();
		});
	}

	/** Forget pushes in flight (their replies are ignored) and the timer: user switch, close. */
	stop(): void {
		this.#generation++;
		this.#setTimer(null);
	}

	/** Start what can go now, then set the one timer. */
	pump(): void {
		const { store, clock } = this.#hooks;
		if (this.#hooks.canSend()) {
			const now = clock.now();
			for (const batch of nextBatch(store.state, now, { online: true, maxBatch: this.#hooks.maxBatch })) {
				if (this.#hooks.ensureJoined(batch.topic)) this.#start(batch, now);
			}
			const wake = nextWakeAt(store.state);
			this.#setTimer(wake !== null && wake > now ? wake : null);
		} else {
			this.#setTimer(null);
		}
		if (store.state.counts.sending === 0) store.apply({ type: 'idle', now: clock.now() });
		this.#hooks.pumped();
	}

	/** Settle a lane's ready items with one failure, without pushing (a refused join). */
	failReady(topic: string, outcome: Exclude<Outcome, { kind: 'ok' }>): void {
		const { store, clock } = this.#hooks;
		const now = clock.now();
		const batch = nextBatch(store.state, now, { online: true }).find((b) => b.topic === topic);
		if (!batch) return;
		const ids = batch.items.map((item) => item.id);
		store.apply({ type: 'sendStarted', ids, now });
		this.#settle(batch.items, batch.items.map(() => outcome));
	}

	#start(batch: LaneBatch, now: number): void {
		const { store, registry } = this.#hooks;
		const first = batch.items[0] as QueueItem;
		const firstWire = wirePayload(registry, first);
		let items: QueueItem[];
		if (firstWire === null || !registry.get(first.type)?.batchable) {
			items = [first];
		} else {
			items = [];
			for (const item of batch.items) {
				if (!registry.get(item.type)?.batchable) break;
				items.push(item);
			}
		}
		store.apply({ type: 'sendStarted', ids: items.map((item) => item.id), now });
		if (firstWire === null) {
			this.#settle(items, [{ kind: 'error', reason: 'invalid', message: `no action type "${first.type}" is registered` }]);
			return;
		}
		void this.#push(batch.topic, items, firstWire);
	}

	async #push(topic: string, items: QueueItem[], firstWire: Record<string, unknown>): Promise<void> {
		const { transport, registry, pushTimeoutMs } = this.#hooks;
		const generation = this.#generation;
		const first = items[0] as QueueItem;
		const isBatch = items.length > 1;
		const payload = isBatch
			? { actions: items.map((item): BatchEntry => ({ client_id: item.id, type: item.type, payload: wirePayload(registry, item) ?? {} })) }
			: firstWire;
		const result = await transport.push(topic, isBatch ? EVENTS.sendBatch : first.type, payload, pushTimeoutMs);
		if (generation !== this.#generation) return;
		this.#settle(items, outcomesOf(items, result, isBatch));
	}

	#settle(items: readonly QueueItem[], outcomes: readonly Outcome[]): void {
		const { store, clock } = this.#hooks;
		items.forEach((item, i) => {
			const outcome = outcomes[i] as Outcome;
			this.#hooks.settling(item, outcome);
			const result =
				outcome.kind === 'ok'
					? store.apply({ type: 'succeeded', id: item.id, response: outcome.response })
					: store.apply({ type: 'failed', id: item.id, failure: outcome, now: clock.now() });
			this.#hooks.settled(result);
		});
		this.schedule();
	}

	#setTimer(at: number | null): void {
		if (at === this.#timerAt) return;
		const { clock } = this.#hooks;
		if (this.#timer !== null) clock.clearTimeout(this.#timer);
		this.#timer = null;
		this.#timerAt = at;
		if (at === null) return;
		this.#timer = clock.setTimeout(() => {
			this.#timer = null;
			this.#timerAt = null;
			this.pump();
		}, at - clock.now());
	}
}

/** Whether a lane has nothing in flight and nothing ready to go (a sync may follow its flush). */
export function isLaneFlushed(store: QueueStore, topic: string, now: number): boolean {
	const lane = store.state.lanes.get(topic);
	const head = lane?.at(0);
	const item = head === undefined ? undefined : store.state.items.get(head);
	if (!item) return true;
	return item.status !== 'sending' && !isReady(item, now);
}
