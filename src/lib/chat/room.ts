/**
 * The room facade: one room's optimistic view and the user's actions on it,
 * plus the LiveView-style trio (`pushEvent`, `pushEventAsync`,
 * `handleEvent`, named as Phoenix LiveView's JS hooks name them), so
 * component code written in that style moves over unchanged.
 *
 * Sends the server would refuse anyway (empty, too long) and sends the
 * device cannot store (quota) are not lost: they show as failed rows with
 * their text, kept on this device until fixed (Retry with a new text) or
 * discarded. Retrying a failed send or edit with a changed text queues the
 * fixed action and drops the failed one.
 *
 * @example
 * const room = chat.room('room:lobby');
 * room.view.subscribe(({ messages }) => render(messages));
 * await room.send('hello');
 * const stop = room.handleEvent('new_message', ({ message }) => notify(message));
 */
import { ActionValidationError, FilesNotStorableError, isStorageError, type Observable, type Outbox, type QueueItem, type Unsubscribe } from '../outbox/index.js';
import { EVENTS } from '../protocol/events.js';
import type { Message } from '../protocol/message.js';
import type { ChatActions } from './actions.js';
import { checkFiles, localAttachments } from './attachments.js';
import type { RejectedSends } from './rejected.js';
import type { RoomState } from './room-state.js';
import type { ViewMessage } from './view.js';

/** What a room shows: the optimistic rows and paging state. */
export interface RoomView {
	/** Confirmed messages with the user's pending actions on top, then sends refused before they were queued. */
	readonly messages: readonly ViewMessage[];
	/** Older messages exist on the server (`loadOlder`). */
	readonly hasMore: boolean;
	/** Others' messages above the user's last `mark_read`, once the server said. */
	readonly unreadCount: number | null;
	/** The first screen is in (snapshot or history). */
	readonly ready: boolean;
	/** Clock time this room was last brought up to date with the server (its snapshot's age), null if never. */
	readonly syncedAt: number | null;
}

/** What `send` did: queued, or refused before queueing (shown as a failed row). */
export type SendOutcome = { ok: true; item: QueueItem } | { ok: false; row: ViewMessage };

export interface Room {
	readonly topic: string;
	/** The view, as a store (Svelte `Readable` contract, plus `get`). */
	readonly view: Observable<RoomView>;
	/** Shorthands for `view.get()`. */
	readonly messages: readonly ViewMessage[];
	readonly hasMore: boolean;
	/**
	 * Queue a new message, with files if given (durable when this resolves;
	 * the files are uploaded before it goes); a refused one (bad body, too
	 * many, too big or unsendable files, no room on the device) shows as a
	 * failed row instead.
	 */
	send(body: string, files?: readonly Blob[]): Promise<SendOutcome>;
	/** Queue an edit of a confirmed message (a view row or a `Message`); rejects with `ActionValidationError` for a bad body. */
	edit(message: Message | ViewMessage, body: string): Promise<QueueItem>;
	/** Queue a deletion of a confirmed message. */
	remove(message: Message | ViewMessage): Promise<QueueItem>;
	/** Queue a read mark up to `seq`. */
	markRead(seq: number): Promise<QueueItem>;
	/** Try a failed row again, with a new text when given. */
	retry(row: ViewMessage, body?: string): Promise<void>;
	/** Give up a failed (or waiting) row; its effect is rolled back. */
	discard(row: ViewMessage): Promise<void>;
	/** Load an older page (`history`); resolves with how many messages came. */
	loadOlder(limit?: number): Promise<number>;
	/** Flush, then sync this room from its cursor. */
	sync(): Promise<void>;
	/** Fire and forget (errors are dropped, as in LiveView). */
	pushEvent(event: string, payload?: Record<string, unknown>): void;
	/**
	 * Resolves with the server's reply. A chat action type is queued (so it
	 * works offline) and resolves when it is confirmed; it rejects with
	 * `OutboxCallError` when it fails. Any other event needs the socket now.
	 */
	pushEventAsync(event: string, payload?: Record<string, unknown>): Promise<unknown>;
	/** Listen to a server push on this room; returns the function that stops it. */
	handleEvent(event: string, callback: (payload: unknown) => void): Unsubscribe;
	/** Leave the room: stop listening and forget its confirmed state (its snapshot stays stored). */
	leave(): void;
}

/** What the facade needs from the chat. */
export interface RoomHost {
	outbox: Outbox<ChatActions>;
	state: RoomState;
	view: Observable<RoomView>;
	rejected: RejectedSends;
	leave(): void;
}

export function createRoom(topic: string, host: RoomHost): Room {
	const { outbox, state, rejected } = host;

	/** The version the server will hold once this user's pending actions on `id` are applied. */
	const baseVersion = (id: string, version: number): number => {
		let base = version;
		for (const item of state.topic.items.get()) {
			if (item.status === 'failed' || item.payload.id !== id) continue;
			const pending = item.payload.base_version;
			if (typeof pending === 'number' && pending + 1 > base) base = pending + 1;
		}
		return base;
	};
	const target = (message: Message | ViewMessage, what: string): { id: string; version: number } => {
		const confirmed = 'clientId' in message ? message.message : message;
		if (!confirmed) throw new Error(`${what}: this message is not confirmed yet (its row has id null); wait until it is sent`);
		return { id: confirmed.id, version: baseVersion(confirmed.id, confirmed.version) };
	};

	async function send(body: string, files: readonly Blob[] = []): Promise<SendOutcome> {
		const refused = checkFiles(files);
		if (refused !== null) return { ok: false, row: rejected.add(body, refused) };
		try {
			if (files.length === 0) return { ok: true, item: await outbox.add(EVENTS.sendMessage, topic, { body }) };
			return { ok: true, item: await outbox.add(EVENTS.sendMessage, topic, { body, attachments: localAttachments(files.length) }, { files }) };
		} catch (error) {
			if (error instanceof ActionValidationError) return { ok: false, row: rejected.add(body, error.message) };
			if (error instanceof FilesNotStorableError) return { ok: false, row: rejected.add(body, 'files cannot be kept here: this browser stores the offline queue in localStorage, which holds text only') };
			if (isStorageError(error)) {
				const why = error.kind === 'quota' ? 'this device is out of space' : 'this device cannot store it right now';
				return { ok: false, row: rejected.add(body, `storage: ${why}`) };
			}
			throw error;
		}
	}

	function edit(message: Message | ViewMessage, body: string): Promise<QueueItem> {
		const { id, version } = target(message, 'edit');
		return outbox.add(EVENTS.editMessage, topic, { id, body, base_version: version });
	}

	const room: Room = {
		topic,
		view: host.view,
		get messages() {
			return host.view.get().messages;
		},
		get hasMore() {
			return host.view.get().hasMore;
		},
		send,
		edit,
		remove(message) {
			const { id, version } = target(message, 'remove');
			return outbox.add(EVENTS.deleteMessage, topic, { id, base_version: version });
		},
		markRead: (seq) => outbox.add(EVENTS.markRead, topic, { seq }),
		async retry(row, body) {
			const item = row.item;
			if (!item) {
				rejected.remove(row.clientId);
				await send(body ?? row.body);
				return;
			}
			if (body === undefined || body === item.payload.body) return outbox.retry(item.id);
			// Changed before retrying: queue the fixed action, then drop the failed one.
			if (item.type === EVENTS.sendMessage) {
				const sent = await send(body, (item.files ?? []).map((file) => file.blob));
				if (sent.ok) await outbox.remove(item.id);
			} else if (item.type === EVENTS.editMessage && row.message) {
				await edit(row, body);
				await outbox.remove(item.id);
			} else {
				await outbox.retry(item.id);
			}
		},
		async discard(row) {
			if (row.item) return outbox.discard(row.item.id);
			rejected.remove(row.clientId);
		},
		loadOlder: (limit) => state.loadOlder(limit),
		sync: () => outbox.sync(topic),
		pushEvent(event, payload = {}) {
			room.pushEventAsync(event, payload).catch(() => {});
		},
		async pushEventAsync(event, payload = {}) {
			if (outbox.actions.has(event)) return outbox.settled(await outbox.add(event as keyof ChatActions, topic, payload as never));
			const result = await state.topic.request(event, payload);
			if (result.status === 'ok') return result.response;
			const reason = result.status === 'error' ? String((result.response as { reason?: unknown } | null)?.reason ?? 'rejected') : result.status;
			throw Object.assign(new Error(`${event} on ${topic}: ${reason}`), { reason });
		},
		handleEvent: (event, callback) => state.topic.on(event, callback),
		leave: () => host.leave()
	};
	return room;
}
