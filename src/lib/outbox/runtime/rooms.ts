/**
 * The engine's open rooms: for each topic its confirmed state (`RoomState`),
 * its view (confirmed + the topic's queue items, rebuilt lazily) and its
 * facade. Views are marked stale on every queue or confirmed change and
 * rebuilt at most once per microtask, keeping unchanged rows by identity.
 */
import { ACTION_TYPES } from '../../protocol/events.js';
import type { ViewMessage } from '../core/optimistic.js';
import { buildView } from '../core/optimistic.js';
import { itemsOfTopic } from '../core/queue-state.js';
import type { QueueItem } from '../core/queue-item.js';
import type { ActionRegistry } from './action-registry.js';
import { ComputedValue } from './observable.js';
import type { OutboxUser } from './options.js';
import type { QueueStore } from './queue-store.js';
import type { Room, RoomHost, RoomView } from './room.js';
import { createRoom } from './room.js';
import type { RoomContext } from './room-state.js';
import { RoomState } from './room-state.js';

export interface RoomEntry {
	state: RoomState;
	view: ComputedValue<RoomView>;
	room: Room;
}

export interface RoomsHooks {
	store: QueueStore;
	registry: ActionRegistry;
	user(): OutboxUser | null;
	hideDeleted: boolean;
	/** The RoomState context, less `changed` (set here). */
	context: Omit<RoomContext, 'changed'>;
	/** The facade's engine side, less what is per room. */
	host: Omit<RoomHost, 'state' | 'view'>;
	/** A room was opened (join it, load its snapshot). */
	opened(entry: RoomEntry): void;
}

const CHAT_TYPES: ReadonlySet<string> = new Set(ACTION_TYPES);

export class Rooms {
	readonly entries = new Map<string, RoomEntry>();
	#hooks: RoomsHooks;

	constructor(hooks: RoomsHooks) {
		this.#hooks = hooks;
	}

	/** The room for `topic`, opened on first use. */
	open(topic: string): Room {
		if (typeof topic !== 'string' || topic === '') throw new TypeError('outbox.room(topic): topic must be a non-empty string like "room:lobby"');
		const held = this.entries.get(topic);
		if (held) return held.room;
		const state = new RoomState(topic, { ...this.#hooks.context, changed: () => view.invalidate() });
		let previous: readonly ViewMessage[] | undefined;
		let last: RoomView | undefined;
		const view = new ComputedValue<RoomView>(() => {
			const messages = this.#messages(state, previous);
			previous = messages;
			const next: RoomView = { messages, hasMore: state.hasMore, unreadCount: state.unreadCount, ready: state.ready };
			if (last && last.messages === messages && last.hasMore === next.hasMore && last.unreadCount === next.unreadCount && last.ready === next.ready) return last;
			return (last = next);
		});
		const entry: RoomEntry = { state, view, room: createRoom(topic, { ...this.#hooks.host, state, view }) };
		this.entries.set(topic, entry);
		this.#hooks.opened(entry);
		return entry.room;
	}

	get(topic: string): RoomEntry | undefined {
		return this.entries.get(topic);
	}

	/** Forget a room (its facade stops updating). */
	close(topic: string): void {
		this.entries.get(topic)?.state.detach();
		this.entries.delete(topic);
	}

	/** The queue changed: every view is stale. */
	invalidateAll(): void {
		for (const entry of this.entries.values()) entry.view.invalidate();
	}

	#messages(state: RoomState, previous: readonly ViewMessage[] | undefined): readonly ViewMessage[] {
		const items = itemsOfTopic(this.#hooks.store.state, state.topic);
		const user = this.#hooks.user() ?? { id: '', name: '' };
		let rows = buildView(state.confirmed, items, { user, hideDeleted: this.#hooks.hideDeleted, previous });
		for (const item of items) rows = this.#applyCustom(rows, item);
		return rows;
	}

	#applyCustom(rows: readonly ViewMessage[], item: QueueItem): readonly ViewMessage[] {
		if (CHAT_TYPES.has(item.type)) return rows;
		const apply = this.#hooks.registry.get(item.type)?.applyOptimistic;
		return apply ? apply(rows, item) : rows;
	}
}
