/**
 * From a push's result to one `Outcome` per queued item: a single action's
 * own reply, or a `send_batch` reply whose `results` answer each action by
 * `client_id`. Pure, so the mapping is tested without a transport.
 */
import { isReason } from '../../protocol/reasons.js';
import type { Outcome, QueueItem } from '../core/queue-item.js';
import type { PushResult } from '../ports.js';

/** A `send_batch` entry: `{client_id, type, payload}`. */
export interface BatchEntry {
	client_id: string;
	type: string;
	payload: Record<string, unknown>;
}

/** The outcome of a push for every item it carried, in the items' order. */
export function outcomesOf(items: readonly QueueItem[], result: PushResult, isBatch: boolean): Outcome[] {
	if (result.status === 'timeout') return items.map(() => ({ kind: 'timeout' }));
	if (result.status === 'closed') return items.map(() => ({ kind: 'closed' }));
	if (result.status === 'error') {
		const { reason, message } = result.response;
		const failure: Outcome = isReason(reason)
			? message === undefined ? { kind: 'error', reason } : { kind: 'error', reason, message }
			: { kind: 'error', reason: 'internal', message: `unknown reason ${String(reason)}` };
		return items.map(() => failure);
	}
	if (!isBatch) return items.map(() => ({ kind: 'ok', response: result.response }));
	return batchOutcomes(items, result.response);
}

function batchOutcomes(items: readonly QueueItem[], response: unknown): Outcome[] {
	const results = (response as { results?: unknown } | null)?.results;
	const byId = new Map<string, Record<string, unknown>>();
	if (Array.isArray(results)) {
		for (const entry of results) {
			if (entry && typeof entry === 'object' && typeof (entry as { client_id?: unknown }).client_id === 'string') {
				byId.set((entry as { client_id: string }).client_id, entry as Record<string, unknown>);
			}
		}
	}
	return items.map((item): Outcome => {
		const entry = byId.get(item.id);
		if (!entry) return { kind: 'error', reason: 'internal', message: 'send_batch reply has no result for this action' };
		const { client_id: _id, status, ...rest } = entry;
		if (status === 'ok') return { kind: 'ok', response: rest };
		const reason = rest.reason;
		const message = typeof rest.message === 'string' ? rest.message : undefined;
		if (!isReason(reason)) return { kind: 'error', reason: 'internal', message: `unknown reason ${String(reason)}` };
		return message === undefined ? { kind: 'error', reason } : { kind: 'error', reason, message };
	});
}
