/**
 * From a push's result to one `Outcome` per queued item: a single action's
 * own reply, or a batch reply whose `results` answer each action by
 * `client_id`. Error replies go through the app's classifier
 * (`classify.ts`) here and nowhere else. Pure, and shared by every driver
 * (the page's send loop over a socket, the service worker over HTTP).
 */
import type { ErrorClassifier } from './classify.js';
import { classifyReply } from './classify.js';
import type { Outcome, QueueItem } from './queue-item.js';

/** A push's or request's result as the wire gave it. Never a rejection. */
export type WireResult =
	| { status: 'ok'; response: unknown }
	| { status: 'error'; response: unknown }
	| { status: 'timeout' }
	| { status: 'closed' };

/** A batch entry as sent: `{client_id, type, payload}`. */
export interface BatchEntry {
	client_id: string;
	type: string;
	payload: Record<string, unknown>;
}

/** The outcome of one error reply: classified. */
export function errorOutcome(classify: ErrorClassifier, reply: unknown): Outcome {
	const { verdict, reason, message } = classifyReply(classify, reply);
	const outcome: Outcome = { kind: 'error', verdict, reason, detail: reply };
	if (message !== undefined) outcome.message = message;
	return outcome;
}

/** The outcome of a push for every item it carried, in the items' order. */
export function outcomesOf(items: readonly QueueItem[], result: WireResult, isBatch: boolean, classify: ErrorClassifier): Outcome[] {
	if (result.status === 'timeout') return items.map(() => ({ kind: 'timeout' }));
	if (result.status === 'closed') return items.map(() => ({ kind: 'closed' }));
	if (result.status === 'error') {
		const failure = errorOutcome(classify, result.response);
		return items.map(() => failure);
	}
	if (!isBatch) return items.map(() => ({ kind: 'ok', response: result.response }));
	return batchOutcomes(items, result.response, classify);
}

function batchOutcomes(items: readonly QueueItem[], response: unknown, classify: ErrorClassifier): Outcome[] {
	const results = (response as { results?: unknown } | null)?.results;
	const byId = new Map<string, Record<string, unknown>>();
	if (Array.isArray(results)) {
		for (const entry of results) {
			const id = (entry as { client_id?: unknown } | null)?.client_id;
			if (typeof id === 'string') byId.set(id, entry as Record<string, unknown>);
		}
	}
	return items.map((item): Outcome => {
		const entry = byId.get(item.id);
		// A batch reply that skips an action is a server fault: try it again later.
		if (!entry) return { kind: 'error', verdict: 'retry', reason: 'internal', message: 'the batch reply has no result for this action' };
		const { client_id: _id, status, ...rest } = entry;
		if (status === 'ok') return { kind: 'ok', response: rest };
		return errorOutcome(classify, rest);
	});
}

/**
 * The server refused a batch whole because the batch its `after` names was
 * not applied (the wire contract's `out_of_order`): nothing ran, so its
 * items go back to `queued` uncharged and the lane sends again in order.
 */
export function isOutOfOrder(result: WireResult): boolean {
	return result.status === 'error' && (result.response as { reason?: unknown } | null)?.reason === 'out_of_order';
}
