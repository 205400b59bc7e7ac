/**
 * The chat preset: rooms of chat messages on an Outbox engine, built on the
 * kit's public API only (actions, topics, views, meta values). One `Chat`
 * per engine; `chat.room(topic)` opens a room (its snapshot loaded, then its
 * topic joined) and keeps it until `room.leave()`.
 *
 * @example
 * const outbox = createBrowserOutbox({ ...chatOutboxOptions, token: () => session.token, user });
 * const chat = createChat(outbox);
 * const lobby = chat.room('room:lobby');
 * await lobby.send('hello');
 */
import { DerivedValue, type Outbox, type Unsubscribe } from '../outbox/index.js';
import { LIMITS } from '../protocol/events.js';
import type { ChatActions } from './actions.js';
import { defaultKeyValueStore, RejectedSends, type KeyValueStore } from './rejected.js';
import { createRoom, type Room, type RoomView } from './room.js';
import { DEFAULT_SNAPSHOT_LIMIT, RoomState } from './room-state.js';
import { buildView, type ViewMessage } from './view.js';

export interface ChatOptions {
	/** Messages per `history` page, and for a room's first screen (1–200, default 50). */
	historyLimit?: number;
	/** Latest messages of a room kept as its offline snapshot (0 turns snapshots off; default 200). */
	snapshotLimit?: number;
	/** Leave deleted messages out of room views (default false: shown with `deleted: true`). */
	hideDeleted?: boolean;
	/** Where refused sends are kept (default `localStorage`; null: this visit only). */
	rejectedStore?: KeyValueStore | null;
	/** How long a `sync` or `history` request waits for its answer (ms, default 10,000). */
	requestTimeoutMs?: number;
}

export interface Chat {
	readonly outbox: Outbox<ChatActions>;
	/** The room for a `room:<slug>` topic (opened on first use, kept until `leave`). */
	room(topic: string): Room;
	/** Leave every room and stop following the engine (the engine itself stays). */
	close(): void;
}

interface OpenRoom {
	state: RoomState;
	rejected: RejectedSends;
	room: Room;
	release: Unsubscribe | null;
}

export function createChat(outbox: Outbox<ChatActions>, options: ChatOptions = {}): Chat {
	const historyLimit = options.historyLimit ?? 50;
	const snapshotLimit = options.snapshotLimit ?? DEFAULT_SNAPSHOT_LIMIT;
	const requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
	checkInteger('historyLimit', historyLimit, 1, LIMITS.historyMaxLimit);
	checkInteger('snapshotLimit', snapshotLimit, 0, 10_000);
	checkInteger('requestTimeoutMs', requestTimeoutMs, 1, 10 * 60_000);
	const store = options.rejectedStore === undefined ? defaultKeyValueStore() : options.rejectedStore;
	const rooms = new Map<string, OpenRoom>();
	let userId = outbox.user?.id ?? null;

	/** Load the snapshot, then join: a room with a snapshot then syncs from its cursor instead of loading history. */
	function start(open: OpenRoom): void {
		const user = outbox.user;
		open.rejected.load(user);
		if (user === null) return;
		void open.state.loadSnapshot().then(() => {
			if (rooms.get(open.room.topic) !== open || outbox.user?.id !== user.id) return;
			open.release ??= open.state.topic.hold();
			if (open.state.topic.state === 'joined') open.state.joined();
		});
	}

	const stopSession = outbox.session.subscribe(() => {
		const next = outbox.user?.id ?? null;
		if (next === userId) return;
		userId = next;
		for (const open of rooms.values()) {
			open.state.reset();
			start(open);
		}
	});

	function open(topic: string): OpenRoom {
		const state = new RoomState({ outbox, topic: outbox.topic(topic), historyLimit, snapshotLimit, pushTimeoutMs: requestTimeoutMs });
		const rejected = new RejectedSends(topic, store, () => outbox.deps.clock.now());
		let previous: readonly ViewMessage[] | undefined;
		let last: RoomView | undefined;
		const view = new DerivedValue<RoomView>([state.version, state.topic.items, rejected.rows], () => {
			const user = outbox.user ?? { id: '', name: '' };
			const rows = buildView(state.confirmed, state.topic.items.get(), { user, hideDeleted: options.hideDeleted ?? false, previous });
			previous = rows;
			const refused = rejected.rows.get();
			const messages = refused.length > 0 ? [...rows, ...refused] : rows;
			const next: RoomView = { messages, hasMore: state.hasMore, unreadCount: state.unreadCount, ready: state.ready, syncedAt: state.syncedAt };
			if (last && sameView(last, next)) return last;
			return (last = next);
		});
		const entry: OpenRoom = {
			state,
			rejected,
			release: null,
			room: createRoom(topic, {
				outbox,
				state,
				view,
				rejected,
				leave() {
					if (rooms.get(topic) !== entry) return;
					rooms.delete(topic);
					entry.release?.();
					state.detach();
				}
			})
		};
		rooms.set(topic, entry);
		start(entry);
		return entry;
	}

	return {
		outbox,
		room(topic) {
			if (typeof topic !== 'string' || topic === '') throw new TypeError('chat.room(topic): topic must be a non-empty string like "room:lobby"');
			return (rooms.get(topic) ?? open(topic)).room;
		},
		close() {
			stopSession();
			for (const entry of [...rooms.values()]) entry.room.leave();
		}
	};
}

function sameView(a: RoomView, b: RoomView): boolean {
	return a.messages === b.messages && a.hasMore === b.hasMore && a.unreadCount === b.unreadCount && a.ready === b.ready && a.syncedAt === b.syncedAt;
}

function checkInteger(name: string, value: number, min: number, max: number): void {
	if (!Number.isInteger(value) || value < min || value > max) {
		throw new TypeError(`createChat: ${name} must be an integer from ${min} to ${max}, got ${value}`);
	}
}
