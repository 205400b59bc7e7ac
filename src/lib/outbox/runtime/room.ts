/**
 * The room facade: one room's optimistic view and its actions, plus the
 * LiveView-style trio (`pushEvent`, `pushEventAsync`, `handleEvent`, named
 * as Phoenix LiveView's JS hooks and LiveSvelte's `live` object name them), so
 * component code written in that style moves over unchanged.
 *
 * Registered action types go through the queue (durable, ordered, exactly
 * once, offline too); any other event is a plain push that needs the socket.
 *
 * @example
 * const room = outbox.room('room:lobby');
 * room.view.subscribe(({ messages }) => render(messages));
 * await room.send('hello');
 * const reply = await room.pushEventAsync('send_message', { body: 'hi' }); // { message }
 * const stop = room.handleEvent('new_message', ({ message }) => notify(message));
 */
import { EVENTS } from '../../protocol/events.js';
import type { Message } from '../../protocol/message.js';
import type { ViewMessage } from '../core/optimistic.js';
import type { QueueItem } from '../core/queue-item.js';
import type { Unsubscribe } from '../ports.js';
import type { Observable } from './observable.js';
import type { RoomState } from './room-state.js';

/** What a room shows: the optimistic rows and paging state. */
export interface RoomView {
	/** Confirmed messages with the user's pending actions on top (core `buildView`). */
	readonly messages: readonly ViewMessage[];
	/** Older messages exist on the server (`loadOlder`). */
	readonly hasMore: boolean;
	/** Others' messages above the user's last `mark_read`, once the server said. */
	readonly unreadCount: number | null;
	/** The first screen is in (snapshot or history). */
	readonly ready: boolean;
}

export interface Room {
	readonly topic: string;
	/** The view, as a store (Svelte `Readable` contract, plus `get`). Joins the room while it lives. */
	readonly view: Observable<RoomView>;
	/** Shorthands for `view.get()`. */
	readonly messages: readonly ViewMessage[];
	readonly hasMore: boolean;
	/** Queue a new message; resolves with the queued item once it is durable. */
	send(body: string): Promise<QueueItem>;
	/** Queue an edit of a confirmed message (a view row or a `Message`). */
	edit(message: Message | ViewMessage, body: string): Promise<QueueItem>;
	/** Queue a deletion of a confirmed message. */
	remove(message: Message | ViewMessage): Promise<QueueItem>;
	/** Queue a read mark up to `seq`. */
	markRead(seq: number): Promise<QueueItem>;
	/** Load an older page (`history`); resolves with how many messages came. */
	loadOlder(limit?: number): Promise<number>;
	/** Flush, then sync this room from its cursor. */
	sync(): Promise<void>;
	/** Fire and forget (errors are dropped, as in LiveView). */
	pushEvent(event: string, payload?: Record<string, unknown>): void;
	/**
	 * Resolves with the server's reply. A registered action type is queued
	 * (so it works offline) and resolves when it is confirmed; it rejects with
	 * `OutboxCallError` when it fails. Any other event needs the socket now.
	 */
	pushEventAsync(event: string, payload?: Record<string, unknown>): Promise<unknown>;
	/** Listen to a server push on this room; returns the function that stops it. */
	handleEvent(event: string, callback: (payload: unknown) => void): Unsubscribe;
	/** Leave the room: stop listening and forget its confirmed state. */
	leave(): void;
}

/** What the facade needs from the engine. */
export interface RoomHost {
	state: RoomState;
	view: Observable<RoomView>;
	add(type: string, topic: string, payload: Record<string, unknown>): Promise<QueueItem>;
	settled(item: QueueItem): Promise<unknown>;
	/** The topic's queue items (to chain `base_version` over pending edits). */
	itemsOf(topic: string): readonly QueueItem[];
	isAction(type: string): boolean;
	push(topic: string, event: string, payload: Record<string, unknown>): Promise<unknown>;
	onMessage(topic: string, event: string, callback: (payload: unknown) => void): Unsubscribe;
	sync(topic: string): Promise<void>;
	leave(topic: string): void;
}

export function createRoom(topic: string, host: RoomHost): Room {
	/** The version the server will hold once this user's pending actions on `id` are applied. */
	const baseVersion = (id: string, version: number): number => {
		let base = version;
		for (const item of host.itemsOf(topic)) {
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

	const room: Room = {
		topic,
		view: host.view,
		get messages() {
			return host.view.get().messages;
		},
		get hasMore() {
			return host.view.get().hasMore;
		},
		send: (body) => host.add(EVENTS.sendMessage, topic, { body }),
		edit(message, body) {
			const { id, version } = target(message, 'edit');
			return host.add(EVENTS.editMessage, topic, { id, body, base_version: version });
		},
		remove(message) {
			const { id, version } = target(message, 'remove');
			return host.add(EVENTS.deleteMessage, topic, { id, base_version: version });
		},
		markRead: (seq) => host.add(EVENTS.markRead, topic, { seq }),
		loadOlder: (limit) => host.state.loadOlder(limit),
		sync: () => host.sync(topic),
		pushEvent(event, payload = {}) {
			room.pushEventAsync(event, payload).catch(() => {});
		},
		async pushEventAsync(event, payload = {}) {
			if (host.isAction(event)) return host.settled(await host.add(event, topic, payload));
			return host.push(topic, event, payload);
		},
		handleEvent: (event, callback) => host.onMessage(topic, event, callback),
		leave: () => host.leave(topic)
	};
	return room;
}
