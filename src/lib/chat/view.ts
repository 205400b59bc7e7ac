/**
 * The chat's optimistic projection (the `project` of its rooms' topic view).
 * The optimistic view of one room: confirmed messages (by `seq`) with the
 * user's queued actions replayed on top, matched by `client_id`, then the
 * user's unconfirmed sends (by creation). What a `message` row shows.
 *
 * - send: a pending row at the end, until the confirmed message with the same
 *   `client_id` (and author) arrives; from then on only the confirmed row
 *   shows, even while the item is still in the queue (no duplicate).
 * - edit / delete: the target row shows the new body / `deleted`, `pending`,
 *   unless the server's version is already past the action's `base_version`
 *   (it was applied, or will conflict: server state wins).
 * - failed items follow the reason table's `failedView` (`reconcile.ts`):
 *   `show` the effect as `failed`, `mark` the row `failed` without the effect
 *   (conflict: fresh state shown), `hide` it (rolled back; the kept item still
 *   holds the text for retry or copy).
 * Rows keep their object identity when nothing about them changed (pass the
 * previous view), and the same array comes back when no row changed.
 */
import type { Message } from '../protocol/message.js';
import { EVENTS } from '../protocol/events.js';
import type { ConfirmedMessages } from './confirmed.js';
import { findByClientId } from './confirmed.js';
import { compareItems, failedViewOf, type ItemError, type QueueItem } from '../outbox/index.js';

/** A row's status, as `data-status` shows it. */
export type ViewStatus = 'pending' | 'sent' | 'failed';

/** One row of the view. */
export interface ViewMessage {
	/** Stable across pending -> sent: `<author id>/<client_id>`. */
	readonly key: string;
	readonly clientId: string;
	/** Server id and seq, null while pending. */
	readonly id: string | null;
	readonly seq: number | null;
	readonly author: Message['author'];
	readonly body: string;
	readonly deleted: boolean;
	readonly status: ViewStatus;
	/** Why it failed (`message-error`), when `status` is `failed`. */
	readonly error: ItemError | null;
	/** The confirmed message, when there is one. */
	readonly message: Message | null;
	/** The queue item behind a pending or failed status (for retry / discard). */
	readonly item: QueueItem | null;
}

export interface ViewOptions {
	/** The signed-in user: pending sends are theirs, and only their confirmed messages match a `client_id`. */
	user: Message['author'];
	/** Leave out deleted rows (confirmed or pending) instead of returning them with `deleted: true`. */
	hideDeleted?: boolean;
	/** The previous view: unchanged rows (and the array itself) are reused. */
	previous?: readonly ViewMessage[];
}

/**
 * Build the view from the confirmed messages and this room's queue items
 * (`itemsOfTopic`). O(messages + items).
 *
 * @example
 * view = buildView(confirmed, itemsOfTopic(queue, 'room:lobby'), { user, previous: view });
 */
export function buildView(
	confirmed: ConfirmedMessages,
	items: readonly QueueItem[],
	options: ViewOptions
): readonly ViewMessage[] {
	const { user } = options;
	const sends: QueueItem[] = [];
	const overlays = new Map<string, QueueItem[]>();
	for (const item of items) {
		if (item.type === EVENTS.sendMessage) sends.push(item);
		else if (item.type === EVENTS.editMessage || item.type === EVENTS.deleteMessage) {
			const target = str(item.payload.id);
			if (target === null) continue;
			let list = overlays.get(target);
			if (!list) overlays.set(target, (list = []));
			list.push(item);
		}
	}

	const rows: ViewMessage[] = [];
	for (const message of confirmed.order) {
		const over = overlays.get(message.id);
		rows.push(over ? confirmedRow(message, over) : plainRow(message));
	}
	sends.sort(compareItems);
	for (const item of sends) {
		if (findByClientId(confirmed, item.id, user.id)) continue;
		const row = pendingSendRow(item, user);
		if (row) rows.push(row);
	}
	const visible = options.hideDeleted ? rows.filter((row) => !row.deleted) : rows;
	return reuse(visible, options.previous);
}

function confirmedRow(message: Message, overlays: QueueItem[] | undefined): ViewMessage {
	let body = message.body;
	let deleted = message.deleted;
	let status: ViewStatus = 'sent';
	let error: ItemError | null = null;
	let source: QueueItem | null = null;
	for (const item of overlays ? [...overlays].sort(compareItems) : []) {
		const mode = item.status === 'failed' ? failedViewOf(item) : null;
		if (mode === 'hide') continue;
		const baseVersion = num(item.payload.base_version);
		const serverIsAhead = baseVersion !== null && message.version > baseVersion;
		if (mode === null && serverIsAhead) continue;
		if (mode !== 'mark') {
			if (item.type === EVENTS.editMessage) body = str(item.payload.body) ?? body;
			else deleted = true;
		}
		if (mode === null) {
			if (status !== 'failed') status = 'pending';
		} else {
			status = 'failed';
			error = item.lastError;
		}
		source = item;
	}
	return {
		key: `${message.author.id}/${message.client_id}`,
		clientId: message.client_id,
		id: message.id,
		seq: message.seq,
		author: message.author,
		body,
		deleted,
		status,
		error,
		message,
		item: source
	};
}

function pendingSendRow(item: QueueItem, user: Message['author']): ViewMessage | null {
	const failed = item.status === 'failed';
	if (failed && failedViewOf(item) === 'hide') return null;
	return {
		key: `${user.id}/${item.id}`,
		clientId: item.id,
		id: null,
		seq: null,
		author: user,
		body: str(item.payload.body) ?? '',
		deleted: false,
		status: failed ? 'failed' : 'pending',
		error: failed ? item.lastError : null,
		message: null,
		item
	};
}

const FIELDS = ['key', 'clientId', 'id', 'seq', 'author', 'body', 'deleted', 'status', 'error', 'message', 'item'] as const;

/**
 * The row of a confirmed message with nothing queued on it: one row object per
 * message object, so an unchanged message is the same row in every view
 * without comparing it (a room of 10,000 rebuilds its view per page loaded).
 */
const plainRows = new WeakMap<Message, ViewMessage>();

function plainRow(message: Message): ViewMessage {
	let row = plainRows.get(message);
	if (!row) plainRows.set(message, (row = confirmedRow(message, undefined)));
	return row;
}

function reuse(rows: ViewMessage[], previous: readonly ViewMessage[] | undefined): readonly ViewMessage[] {
	if (!previous || previous.length === 0) return rows;
	let byKey: Map<string, ViewMessage> | null = null;
	let same = rows.length === previous.length;
	for (let i = 0; i < rows.length; i++) {
		let row = rows[i] as ViewMessage;
		// Only rows built afresh (an action on them, a pending send) look for an equal one to keep.
		if (row !== previous[i] && !(row.message !== null && plainRows.get(row.message) === row)) {
			if (byKey === null) {
				byKey = new Map();
				for (const held of previous) byKey.set(held.key, held);
			}
			const old = byKey.get(row.key);
			if (old && FIELDS.every((field) => old[field] === row[field])) rows[i] = row = old;
		}
		if (row !== previous[i]) same = false;
	}
	return same ? previous : rows;
}

function str(value: unknown): string | null {
	return typeof value === 'string' ? value : null;
}

function num(value: unknown): number | null {
	return typeof value === 'number' ? value : null;
}
