/**
 * The chat domain over the store: validate, apply (idempotently, in one
 * transaction), then broadcast what changed. The room channel and the HTTP
 * `POST /api/sync/events` endpoint both come through here, so an action has
 * the same result and the same pushes whichever way it arrives. A call from
 * a socket names its channel (`from`), which is left out of the push (its
 * reply carries the change, as Phoenix's `broadcast_from`); an HTTP call has
 * no socket, so every socket in the room hears it.
 */
import {
	LIMITS,
	describeZodError,
	parseAction,
	parseBatchAction,
	roomTopic,
	sendBatchSchema,
	type Action,
	type BatchAction,
	type User
} from '../../protocol/index.js';
import type { BroadcastSender } from '../channels/types.js';
import type { ActionResult, ChatStore } from '../store/port.js';
import { pushForOutcome } from './pushes.js';

/** Push to every socket in `topic`; with `from`, to every socket but that channel. */
export type Broadcast = (topic: string, event: string, payload: Record<string, unknown>, from?: BroadcastSender) => void;

/** An error outcome for one action that never reached the store. */
function invalid(client_id: string, message: string): ActionResult {
	return { client_id, status: 'error', reason: 'invalid', message };
}

export class ChatService {
	readonly store: ChatStore;
	readonly #broadcast: Broadcast;

	constructor(store: ChatStore, broadcast: Broadcast) {
		this.store = store;
		this.#broadcast = broadcast;
	}

	/** One event (`send_message`, …) with its raw payload; `from`: the channel it came in on. */
	async applyOne(user: User, room: string, type: Action['type'], payload: unknown, from?: BroadcastSender): Promise<ActionResult> {
		const parsed = parseAction(type, payload);
		if (!parsed.ok) {
			const clientId = (payload as { client_id?: unknown } | null)?.client_id;
			return invalid(typeof clientId === 'string' ? clientId : '', parsed.message);
		}
		const [result] = await this.#apply(user, room, [parsed.action], from);
		return result!;
	}

	/**
	 * A `send_batch` payload: envelope errors reject the whole batch (returned
	 * as `{error}`); a bad action fails alone, in its place. `inOrder` judges
	 * the batch's `after` (see `sendBatchSchema`): when it says no, nothing is
	 * applied (`{outOfOrder}`).
	 */
	async applyBatch(
		user: User,
		room: string,
		payload: unknown,
		from?: BroadcastSender,
		inOrder?: (after: string | undefined) => boolean
	): Promise<{ results: ActionResult[] } | { error: string } | { outOfOrder: true }> {
		const parsed = sendBatchSchema.safeParse(payload);
		if (!parsed.success) {
			const count = (payload as { actions?: unknown[] } | null)?.actions?.length;
			if (typeof count === 'number' && count > LIMITS.batchMaxActions) {
				return { error: `a batch holds at most ${LIMITS.batchMaxActions} actions` };
			}
			return { error: describeZodError(parsed.error) };
		}
		if (inOrder && !inOrder(parsed.data.after)) return { outOfOrder: true };
		return { results: await this.applyEntries(user, room, parsed.data.actions, from) };
	}

	/** Validated batch entries: parse each, apply the good ones together, keep the order. */
	async applyEntries(user: User, room: string, entries: BatchAction[], from?: BroadcastSender): Promise<ActionResult[]> {
		const results: (ActionResult | undefined)[] = new Array(entries.length);
		const good: Action[] = [];
		const goodIndex: number[] = [];
		entries.forEach((entry, i) => {
			const parsed = parseBatchAction(entry);
			if (parsed.ok) {
				good.push(parsed.action);
				goodIndex.push(i);
			} else {
				results[i] = invalid(entry.client_id, parsed.message);
			}
		});
		if (good.length) {
			const applied = await this.#apply(user, room, good, from);
			applied.forEach((result, j) => (results[goodIndex[j]!] = result));
		}
		return results as ActionResult[];
	}

	async #apply(user: User, room: string, actions: Action[], from: BroadcastSender | undefined): Promise<ActionResult[]> {
		const outcome = await this.store.applyActions(user, room, actions);
		const push = pushForOutcome(outcome);
		if (push) this.#broadcast(roomTopic(room), push.event, push.payload, from);
		return outcome.results;
	}
}

/** The wire reply for one action result: `ok {message}` / `ok {unread_count}` / `error {reason, message?}`. */
export function resultToReply(result: ActionResult) {
	if (result.status === 'ok') {
		const { client_id: _, status: __, ...response } = result;
		return { status: 'ok' as const, response };
	}
	const response: Record<string, unknown> = { reason: result.reason };
	if (result.message) response.message = result.message;
	return { status: 'error' as const, response };
}
