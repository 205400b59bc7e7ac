/**
 * Callers waiting for a queued action's verdict (`outbox.settled(item)`):
 * resolved with the server's reply (decoded by the type's `reply`) when the
 * item is confirmed, rejected with `OutboxCallError` when it settles as
 * failed or is discarded. In a follower tab the reply comes with the
 * leader's queue change; a confirmation seen without one resolves with
 * `undefined`.
 */
import type { FailureReason, ItemError, QueueItem } from '../core/queue-item.js';
import type { QueueResult } from '../core/queue.js';
import type { QueueState } from '../core/queue-state.js';

/** A queued action ended without being confirmed. */
export class OutboxCallError extends Error {
	override readonly name = 'OutboxCallError';
	readonly reason: FailureReason | 'discarded' | 'removed' | 'cancelled' | 'bad-reply';
	readonly item: QueueItem;
	readonly error: ItemError | null;

	constructor(item: QueueItem, reason: OutboxCallError['reason'], message?: string) {
		super(message ?? `action ${item.type} (${item.id}) ended: ${reason}`);
		this.reason = reason;
		this.item = item;
		this.error = item.lastError;
	}
}

interface Waiter {
	item: QueueItem;
	resolvers: Array<{ resolve(response: unknown): void; reject(error: unknown): void }>;
}

export class PendingCalls {
	#waiters = new Map<string, Waiter>();
	#responses = new Map<string, unknown>();
	#decode: (item: QueueItem, response: unknown) => unknown;

	/** `decode` turns an ok reply into what `settled()` resolves with (it may throw: the caller is told `bad-reply`). */
	constructor(decode: (item: QueueItem, response: unknown) => unknown) {
		this.#decode = decode;
	}

	/** Wait for `item`'s verdict. */
	wait(item: QueueItem): Promise<unknown> {
		return new Promise((resolve, reject) => {
			let waiter = this.#waiters.get(item.id);
			if (!waiter) this.#waiters.set(item.id, (waiter = { item, resolvers: [] }));
			waiter.resolvers.push({ resolve, reject });
		});
	}

	/** The server's ok reply, just before the item is reduced as succeeded. */
	responded(id: string, response: unknown): void {
		if (this.#waiters.has(id)) this.#responses.set(id, response);
	}

	/** The caller itself ended the item (discard, remove, clear, user switch). */
	end(id: string, reason: 'discarded' | 'removed' | 'cancelled'): void {
		const waiter = this.#waiters.get(id);
		if (!waiter) return;
		this.#finish(id, (r) => r.reject(new OutboxCallError(waiter.item, reason)));
	}

	/** Everyone waiting is told `reason` (user switch, close). */
	endAll(reason: 'cancelled'): void {
		for (const id of [...this.#waiters.keys()]) this.end(id, reason);
	}

	/** Look at a reducer result: confirmed items resolve, failed ones reject. */
	observe(result: QueueResult | null, state: QueueState): void {
		if (this.#waiters.size === 0 || result === null) return;
		for (const id of result.removed) {
			const waiter = this.#waiters.get(id);
			if (!waiter) continue;
			const response = this.#responses.get(id);
			let decoded: unknown;
			try {
				decoded = response === undefined ? undefined : this.#decode(waiter.item, response);
			} catch (error) {
				const message = `the reply to ${waiter.item.type} was refused: ${error instanceof Error ? error.message : String(error)}`;
				this.#finish(id, (r) => r.reject(new OutboxCallError(waiter.item, 'bad-reply', message)));
				continue;
			}
			this.#finish(id, (r) => r.resolve(decoded));
		}
		for (const id of result.changed) {
			const item = state.items.get(id);
			if (!this.#waiters.has(id) || item?.status !== 'failed') continue;
			this.#finish(id, (r) => r.reject(new OutboxCallError(item, item.lastError?.reason ?? 'rejected', item.lastError?.message)));
		}
	}

	#finish(id: string, settle: (resolver: Waiter['resolvers'][number]) => void): void {
		const waiter = this.#waiters.get(id);
		this.#waiters.delete(id);
		this.#responses.delete(id);
		for (const resolver of waiter?.resolvers ?? []) settle(resolver);
	}
}
