/**
 * The page's send loop: while the engine may send, take what the planner
 * (`core/plan.ts`) says may go, mark it `sending`, push it (the item's own
 * event, or the batch event for several), and settle each item from the
 * reply (`core/outcomes.ts`). Lanes of different topics are in flight at the
 * same time; within a lane the core holds later items while a batch is out,
 * or, with `batchesInFlight` above 1, lets up to that many batches go, each
 * naming the one before it in `after`. A batch the server refused because the
 * one it names was not applied (`out_of_order`) was not run: its items go
 * back to `queued` as they were, and the lane sends again from the failed
 * batch, in order.
 *
 * An item carrying files not yet uploaded goes alone: it is marked
 * `sending` (holding its lane), its files are uploaded (`upload-files.ts`,
 * progress through `uploadProgress`), each upload recorded on the item, and
 * only then is it pushed. A batch stops before such an item.
 *
 * One timer at most, at the earliest backoff end (`nextWakeAt`); every other
 * wake-up is an event (a change, a join, a reply), coalesced into one pump
 * per microtask. `idle` is reduced when nothing is in flight after a pump.
 */
import type { ErrorClassifier } from '../core/classify.js';
import type { BatchEntry } from '../core/outcomes.js';
import { isOutOfOrder, outcomesOf } from '../core/outcomes.js';
import type { LaneBatch } from '../core/plan.js';
import { nextWakeAt, planFlush } from '../core/plan.js';
import type { QueueResult } from '../core/queue.js';
import type { Outcome, QueueItem } from '../core/queue-item.js';
import type { Clock, TimerHandle, Transport, Uploader } from '../ports.js';
import { needsUpload, type UploadProgress } from '../core/files.js';
import { uploadItemFiles } from './upload-files.js';
import type { ActionRegistry } from './action-registry.js';
import { wireOf } from './action-registry.js';
import type { QueueStore } from './queue-store.js';

export interface SendLoopHooks {
	store: QueueStore;
	transport: Transport;
	clock: Clock;
	registry: ActionRegistry;
	classify: ErrorClassifier;
	maxBatch: number;
	/** The event that carries a batch (`{actions: [{client_id, type, payload}], after?}` → `{results}`). */
	batchEvent: string;
	/** Batches of one lane in flight at once (1–8). */
	batchesInFlight: number;
	pushTimeoutMs: number;
	/** Uploads the files items carry (none: such items fail `invalid`). */
	uploader?: Uploader;
	/** Progress of file `index` of item `id`; `null` when the item's upload step ended. */
	uploadProgress(id: string, index: number | null, progress?: UploadProgress): void;
	/** Leader, signed in, connected, not stopped. */
	canSend(): boolean;
	/** This tab still leads (holds the lease): only then are replies reduced into the queue. */
	leads(): boolean;
	/** Join the topic if needed; true when it is joined now. */
	ensureJoined(topic: string): boolean;
	/** An item's outcome is known, just before it is reduced (a view merges the server's copy first: no flicker). */
	settling(item: QueueItem, outcome: Outcome): void;
	/** An item was settled: its outcome and the reducer's result (sync requests, sign-in). */
	settled(item: QueueItem, outcome: Outcome, result: QueueResult): void;
	/** After every pump (the engine starts syncs whose lanes are flushed). */
	pumped(): void;
}

export class SendLoop {
	#hooks: SendLoopHooks;
	#generation = 0;
	#scheduled = false;
	#timer: TimerHandle | null = null;
	#timerAt: number | null = null;
	#isBatchable: (type: string) => boolean;
	/** Per lane, each push in flight (this generation) in the order pushed: its last item, and whether it went as a batch request. */
	#pushes = new Map<string, Array<{ end: string; isBatch: boolean }>>();
	#chainEnd = (topic: string) => this.#pushes.get(topic)?.at(-1)?.end;
	/** A batch may name in `after` only the last item of a batch request in flight. */
	#canFollow = (id: string) => [...this.#pushes.values()].some((pushes) => pushes.some((p) => p.isBatch && p.end === id));

	constructor(hooks: SendLoopHooks) {
		this.#hooks = hooks;
		this.#isBatchable = (type) => hooks.registry.get(type)?.batchable === true;
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
		this.#pushes.clear();
		this.#setTimer(null);
	}

	/** Start what can go now, then set the one timer. */
	pump(): void {
		const { store, clock } = this.#hooks;
		if (this.#hooks.canSend()) {
			const now = clock.now();
			const plan = planFlush(store.state, now, {
				maxBatch: this.#hooks.maxBatch,
				isBatchable: this.#isBatchable,
				depth: this.#hooks.batchesInFlight,
				canFollow: this.#canFollow,
				chainEnd: this.#chainEnd
			});
			let held: string | null = null; // a lane whose batch was cut: what the plan has behind it waits
			plan.forEach((batch, index) => {
				if (batch.topic === held || !this.#hooks.ensureJoined(batch.topic)) {
					held = batch.topic;
					return;
				}
				const cut = cutAtUpload(batch);
				if (cut.items.length < batch.items.length) held = batch.topic;
				// An item with files goes alone, never behind a batch in flight.
				if (batch.after !== undefined && !cut.batchable) return;
				const followed = held !== batch.topic && plan[index + 1]?.topic === batch.topic;
				this.#start(cut, now, followed);
			});
			const wake = nextWakeAt(store.state);
			this.#setTimer(wake !== null && wake > now ? wake : null);
		} else {
			this.#setTimer(null);
		}
		if (store.state.counts.sending === 0) store.apply({ type: 'idle', now: clock.now() });
		this.#hooks.pumped();
	}

	/** Settle a lane's ready items with one failure, without pushing (a join refused for good). */
	failReady(topic: string, outcome: Exclude<Outcome, { kind: 'ok' }>): void {
		const { store, clock } = this.#hooks;
		const now = clock.now();
		const batch = planFlush(store.state, now, { isBatchable: this.#isBatchable }).find((b) => b.topic === topic);
		if (!batch) return;
		store.apply({ type: 'sendStarted', ids: batch.items.map((item) => item.id), now });
		this.#settle(batch.items, batch.items.map(() => outcome));
	}

	/** `followed`: another batch of the lane goes right behind this one (so this one must go as a batch request). */
	#start(batch: LaneBatch, now: number, followed = false): void {
		const { store, registry } = this.#hooks;
		const { items } = batch;
		store.apply({ type: 'sendStarted', ids: items.map((item) => item.id), now });
		const first = items[0] as QueueItem;
		if (items.length === 1 && needsUpload(first) && registry.has(first.type)) {
			void this.#uploadThenPush(batch.topic, first);
			return;
		}
		const asBatch = batch.batchable && (items.length > 1 || followed || batch.after !== undefined);
		this.#pushNow(batch.topic, items, asBatch, batch.after);
	}

	async #uploadThenPush(topic: string, item: QueueItem): Promise<void> {
		const { store, uploader } = this.#hooks;
		const generation = this.#generation;
		const alive = () => generation === this.#generation && store.state.items.get(item.id)?.status === 'sending';
		const outcome = await uploadItemFiles(item, uploader, {
			alive,
			progress: (index, progress) => this.#hooks.uploadProgress(item.id, index, progress),
			uploaded: (index, upload) => void store.apply({ type: 'fileUploaded', id: item.id, index, upload })
		});
		this.#hooks.uploadProgress(item.id, null);
		if (outcome.kind === 'stopped' || !alive()) return;
		if (outcome.kind === 'failed') {
			this.#settle([item], [outcome.failure]);
			return;
		}
		this.#pushNow(topic, [store.state.items.get(item.id) as QueueItem]);
	}

	#pushNow(topic: string, items: QueueItem[], asBatch = items.length > 1, after?: string): void {
		const { registry } = this.#hooks;
		const wires = items.map((item) => wireOf(registry, item));
		const unknown = wires.findIndex((wire) => wire === null);
		if (unknown >= 0) {
			// A type no longer registered (an older app version queued it): nothing can send it.
			const type = (items[unknown] as QueueItem).type;
			const outcome: Outcome = { kind: 'error', verdict: 'fail', reason: 'invalid', message: `no action type "${type}" is registered` };
			this.#settle(items, items.map((item) => (item.type === type ? outcome : { kind: 'closed' })));
			return;
		}
		void this.#push(topic, items, wires as Array<{ event: string; payload: Record<string, unknown> }>, asBatch || items.length > 1, after);
	}

	async #push(
		topic: string,
		items: QueueItem[],
		wires: Array<{ event: string; payload: Record<string, unknown> }>,
		isBatch: boolean,
		after: string | undefined
	): Promise<void> {
		const { transport, pushTimeoutMs, classify, batchEvent, store } = this.#hooks;
		const generation = this.#generation;
		const first = wires[0] as { event: string; payload: Record<string, unknown> };
		let payload = first.payload;
		if (isBatch) {
			const actions = wires.map(({ event, payload: { client_id, ...rest } }): BatchEntry => ({ client_id: client_id as string, type: event, payload: rest }));
			payload = after === undefined ? { actions } : { actions, after };
		}
		const end = (items[items.length - 1] as QueueItem).id;
		const push = { end, isBatch };
		const pushes = this.#pushes.get(topic) ?? [];
		pushes.push(push);
		this.#pushes.set(topic, pushes);
		const result = await transport.push(topic, isBatch ? batchEvent : first.event, payload, pushTimeoutMs);
		if (generation !== this.#generation) return;
		pushes.splice(pushes.indexOf(push), 1);
		if (pushes.length === 0 && this.#pushes.get(topic) === pushes) this.#pushes.delete(topic);
		if (!this.#hooks.leads()) {
			// Stepped down while it was out (a frozen tab resumed past its lease): the queue is the new
			// leader's now, so nothing is reduced here; what the server confirmed still reaches this tab's views.
			const outcomes = isOutOfOrder(result) ? [] : outcomesOf(items, result, isBatch, classify);
			outcomes.forEach((outcome, i) => outcome.kind === 'ok' && this.#hooks.settling(items[i] as QueueItem, outcome));
			return;
		}
		if (after !== undefined && isOutOfOrder(result)) {
			// Not run: the batch before it failed. Its items wait for the lane to send that one again.
			store.apply({ type: 'requeued', ids: items.map((item) => item.id) });
			return;
		}
		this.#settle(items, outcomesOf(items, result, isBatch, classify));
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
			this.#hooks.settled(item, outcome, result);
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

/** The batch up to the first item with files to upload; that item alone when it is the head. */
function cutAtUpload(batch: LaneBatch): LaneBatch {
	const at = batch.items.findIndex(needsUpload);
	if (at < 0) return batch;
	if (at === 0) return { topic: batch.topic, items: [batch.items[0] as QueueItem], batchable: false };
	return { ...batch, items: batch.items.slice(0, at) };
}
