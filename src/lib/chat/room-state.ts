/**
 * The confirmed side of one room and how it is kept fresh, on the kit's
 * public `Topic` API: live pushes (`new_message`, `message_updated`,
 * `changes`), the replies to this user's own actions (`onConfirmed`), a sync
 * routine that pages `sync` from the room's cursor until `complete`, and
 * `history` for the first screen and older pages. Every payload from the
 * server is read at the boundary (`wire.ts`); one that does not read is
 * reported (`payload-refused`), never dropped silently. A snapshot (cursor,
 * latest messages, when it was last synced) is kept with `outbox.meta`, so a
 * reload shows the last-seen messages offline and a sync from its cursor
 * brings it up to date.
 */
import { WritableValue, type Outbox, type Topic, type Unsubscribe } from '../outbox/index.js';
import { EVENTS } from '../protocol/events.js';
import type { Message } from '../protocol/message.js';
import { applyServerMessages, createConfirmed, type ConfirmedMessages } from './confirmed.js';
import { readHistory, readPushedMessages, readSnapshot, readSyncPage, type SyncPage } from './wire.js';

/** The pushes that carry messages (`changes`: several at once, from a batch). */
const MESSAGE_PUSHES = [EVENTS.newMessage, EVENTS.messageUpdated, EVENTS.changes] as const;

/** The meta key of a room's snapshot (`{cursor, messages, syncedAt}`), read by the service worker too. */
export const snapshotKey = (topic: string): string => `room-snapshot:${topic}`;

/** The `performance.mark` made when a room's stored snapshot has been read (detail: `{topic, messages}`). */
export const SNAPSHOT_READ_MARK = 'outbox:snapshot-read';

/** Messages a room's snapshot keeps unless the app sets `snapshotLimit`. */
export const DEFAULT_SNAPSHOT_LIMIT = 200;

export interface RoomStateOptions {
	outbox: Pick<Outbox, 'meta' | 'user' | 'deps'>;
	topic: Topic;
	historyLimit: number;
	/** Messages kept in the snapshot (0: keep no snapshot). */
	snapshotLimit: number;
	pushTimeoutMs: number;
}

interface Snapshot {
	cursor: string;
	messages: Message[];
	syncedAt: number | null;
}

/** Same cursor, time and message objects (messages are immutable: a change is a new object). */
function sameSnapshot(a: Snapshot | null, b: Snapshot): boolean {
	return a !== null && a.cursor === b.cursor && a.syncedAt === b.syncedAt && a.messages.length === b.messages.length && a.messages.every((m, i) => m === b.messages[i]);
}

export class RoomState {
	readonly topic: Topic;
	confirmed: ConfirmedMessages = createConfirmed();
	cursor: string | null = null;
	hasMore = false;
	unreadCount: number | null = null;
	/** The first screen is in (from the snapshot or `history`). */
	ready = false;
	/** Clock time of the last completed sync (or first load), null before any. */
	syncedAt: number | null = null;
	/** Bumped on every change: the view's source. */
	readonly version = new WritableValue(0);
	#o: RoomStateOptions;
	#epoch = 0;
	#loading = false;
	#pageWaiter: ((page: SyncPage | null) => void) | null = null;
	#stops: Unsubscribe[] = [];
	#saveScheduled = false;
	/** The snapshot written last by this state (not re-written while it is the same). */
	#saved: Snapshot | null = null;

	constructor(options: RoomStateOptions) {
		this.#o = options;
		const { topic } = options;
		this.topic = topic;
		for (const event of MESSAGE_PUSHES) {
			this.#stops.push(
				topic.on(event, (payload) => {
					const messages = readPushedMessages(payload);
					if (messages === null) return topic.reportRefused(event, 'the push has no message the chat can read', payload);
					this.merge(messages);
				})
			);
		}
		this.#stops.push(
			topic.on(EVENTS.syncComplete, (payload) => {
				const page = readSyncPage(payload);
				if (page === null) topic.reportRefused(EVENTS.syncComplete, 'the sync page does not have {messages, cursor, complete}', payload);
				const waiter = this.#pageWaiter;
				this.#pageWaiter = null;
				waiter?.(page);
			}),
			topic.onConfirmed((_item, response) => {
				const pushed = readPushedMessages(response);
				if (pushed) this.merge(pushed);
				const unread = (response as { unread_count?: unknown } | null)?.unread_count;
				if (typeof unread === 'number') {
					this.unreadCount = unread;
					this.#changed();
				}
			}),
			topic.onSync(() => this.sync()),
			topic.onState((state) => {
				if (state === 'joined') this.joined();
			})
		);
	}

	/** Merge confirmed messages (pushes, replies, pages); false when none changed anything. */
	merge(messages: readonly Message[]): boolean {
		if (applyServerMessages(this.confirmed, messages).length === 0) return false;
		const first = this.confirmed.order[0];
		this.hasMore = first !== undefined && first.seq > 1;
		this.#changed();
		this.#saveSoon();
		return true;
	}

	/** Forget everything (user switch); then load the new user's snapshot. */
	reset(): void {
		this.#epoch++;
		this.#saved = null;
		this.confirmed = createConfirmed();
		this.cursor = null;
		this.hasMore = false;
		this.unreadCount = null;
		this.ready = false;
		this.syncedAt = null;
		this.#pageWaiter?.(null);
		this.#changed();
	}

	/** Seed from the stored snapshot, if any. */
	async loadSnapshot(): Promise<void> {
		const epoch = this.#epoch;
		if (this.#o.outbox.user === null || this.#o.snapshotLimit === 0) return;
		try {
			const stored = await this.#o.outbox.meta.get(snapshotKey(this.topic.name));
			const snapshot = readSnapshot(stored);
			// For the big-room bench and anyone profiling: the newest page is in hand (see docs/components.md, "Performance marks").
			if (snapshot !== null) globalThis.performance?.mark?.(SNAPSHOT_READ_MARK, { detail: { topic: this.topic.name, messages: snapshot.messages.length } });
			if (snapshot === null || epoch !== this.#epoch || this.cursor !== null) return;
			this.cursor = snapshot.cursor;
			this.syncedAt = snapshot.syncedAt;
			this.ready = true;
			this.merge(snapshot.messages);
			this.#changed();
		} catch {
			// No snapshot: the first join loads history instead.
		}
	}

	/** The topic is joined (again): load the first screen, or ask for a sync once the lane is flushed. */
	joined(): void {
		if (this.cursor === null && !this.ready) void this.#loadFirst();
		else this.topic.requestSync();
	}

	/** One sync run from the cursor, paging until `complete`. Returns false when it could not finish. */
	async sync(): Promise<boolean> {
		// Nothing shown yet: the first screen is the newest page of history, not the whole room.
		if (this.cursor === null && !this.ready) {
			await this.#loadFirst();
			return this.ready;
		}
		const epoch = this.#epoch;
		const { clock } = this.#o.outbox.deps;
		for (;;) {
			const page = new Promise<SyncPage | null>((resolve) => (this.#pageWaiter = resolve));
			const timer = clock.setTimeout(() => this.#pageWaiter?.(null), this.#o.pushTimeoutMs);
			const reply = await this.topic.request(EVENTS.sync, { since: this.cursor });
			if (reply.status !== 'ok') {
				clock.clearTimeout(timer);
				this.#pageWaiter = null;
				// A cursor the server no longer knows: start again from the beginning.
				const reason = reply.status === 'error' ? (reply.response as { reason?: unknown } | null)?.reason : null;
				if (reason === 'invalid' && this.cursor !== null && epoch === this.#epoch) this.cursor = null;
				return false;
			}
			const data = await page;
			clock.clearTimeout(timer);
			if (!data || epoch !== this.#epoch) return false;
			this.cursor = data.cursor;
			this.unreadCount = data.unreadCount ?? this.unreadCount;
			this.ready = true;
			this.merge(data.messages);
			if (data.complete) {
				this.syncedAt = clock.now();
				this.#changed();
				this.#saveSoon();
				return true;
			}
			this.#changed();
		}
	}

	/** Load up to `limit` messages older than the oldest held; returns how many came. */
	async loadOlder(limit = this.#o.historyLimit): Promise<number> {
		return this.#loadPage(limit, this.confirmed.order[0]?.seq ?? null);
	}

	/** One `history` page: the newest (`before` null) or the one older than `before`. */
	async #loadPage(limit: number, before: number | null): Promise<number> {
		const epoch = this.#epoch;
		const reply = await this.topic.request(EVENTS.history, { before, limit });
		if (reply.status !== 'ok') {
			const why = reply.status === 'error' ? `error ${String((reply.response as { reason?: unknown } | null)?.reason ?? 'rejected')}` : reply.status;
			throw new Error(`loadOlder: history ${why}`);
		}
		const page = readHistory(reply.response);
		if (page === null) {
			this.topic.reportRefused(EVENTS.history, 'the history reply does not have {messages, cursor}', reply.response);
			throw new Error('loadOlder: the history reply does not match the contract');
		}
		if (epoch !== this.#epoch) return 0;
		if (this.cursor === null && page.cursor !== null) {
			this.cursor = page.cursor;
			this.syncedAt = this.#o.outbox.deps.clock.now();
			// Stored even when the room is empty: a reload offline then shows it
			// ready, and whatever gets confirmed later (by a service worker, say)
			// has a snapshot to go into.
			this.#saveSoon();
		}
		if (page.messages.length === 0) this.hasMore = false;
		// One change per page (a view of 10,000 rows is rebuilt on each).
		if (!this.merge(page.messages)) this.#changed();
		return page.messages.length;
	}

	/** Stop listening (room left, chat closed). */
	detach(): void {
		for (const stop of this.#stops.splice(0)) stop();
		this.#pageWaiter?.(null);
	}

	async #loadFirst(): Promise<void> {
		if (this.#loading) return;
		this.#loading = true;
		try {
			// The newest page, even when some messages are held already: those may be only this
			// user's own confirmed actions (replies, another tab's progress) with a hole before now.
			await this.#loadPage(this.#o.historyLimit, null);
			this.ready = true;
			this.#changed();
		} catch {
			if (this.cursor !== null) this.topic.requestSync();
		} finally {
			this.#loading = false;
		}
	}

	#changed(): void {
		this.version.set(this.version.get() + 1);
	}

	#saveSoon(): void {
		const user = this.#o.outbox.user;
		if (this.#saveScheduled || user === null || this.#o.snapshotLimit === 0 || this.cursor === null) return;
		this.#saveScheduled = true;
		const epoch = this.#epoch;
		queueMicrotask(() => {
			this.#saveScheduled = false;
			if (epoch !== this.#epoch || this.#o.outbox.user?.id !== user.id || this.cursor === null) return;
			const snapshot = { cursor: this.cursor, messages: this.confirmed.order.slice(-this.#o.snapshotLimit), syncedAt: this.syncedAt };
			// An older page loaded changes nothing of the newest messages: no write (a big room loads 200 of them).
			if (sameSnapshot(this.#saved, snapshot)) return;
			this.#saved = snapshot;
			// A snapshot is a cache: losing one write costs a longer sync, not data.
			this.#o.outbox.meta.set(snapshotKey(this.topic.name), snapshot).catch(() => {});
		});
	}
}
