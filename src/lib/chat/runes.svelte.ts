/**
 * A room's view as rune state (read-only getters over `$state`), for
 * components written with runes.
 *
 * @example
 * const lobby = new RoomViewState(chat.room('room:lobby'));
 * // {#each lobby.messages as message (message.key)} ... {/each}
 */
import { ObservableState } from '../outbox/svelte/index.js';
import type { Room, RoomView } from './room.js';
import type { ViewMessage } from './view.js';

export class RoomViewState {
	readonly room: Room;
	#state: ObservableState<RoomView>;
	constructor(room: Room) {
		this.room = room;
		this.#state = new ObservableState(room.view);
	}
	get messages(): readonly ViewMessage[] {
		return this.#state.current.messages;
	}
	get hasMore(): boolean {
		return this.#state.current.hasMore;
	}
	get unreadCount(): number | null {
		return this.#state.current.unreadCount;
	}
	get ready(): boolean {
		return this.#state.current.ready;
	}
	get syncedAt(): number | null {
		return this.#state.current.syncedAt;
	}
}
