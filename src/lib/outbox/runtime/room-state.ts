/**
 * The confirmed side of one room and how it is kept fresh: live pushes
 * (`new_message`, `message_updated`, `changes`), `sync` runs from the room's cursor
 * (paged until `complete`), and `history` for the first screen and older
 * pages. Every payload from the server is checked against the shared schemas
 * once, here. A snapshot (the cursor and the latest messages) is kept beside
 * the queue with `setMeta`, so a reload shows the last-seen messages offline
 * and a sync from its cursor brings it up to date.
 */
import { z } from 'zod';
import { EVENTS } from '../../protocol/events.js';
import type { Message } from '../../protocol/message.js';
import { changesSchema, cursorSchema, messageSchema, syncCompleteSchema, type SyncCompletePayload } from '../../protocol/schemas.js';
import type { ConfirmedMessages } from '../core/confirmed.js';
import { applyServerMessages, createConfirmed } from '../core/confirmed.js';
import { snapshotKey } from '../adapters/storage-layout.js';
import type { Clock, PushResult, QueueStorage, Transport, Unsubscribe } from '../ports.js';

const pushSchema = z.object({ message: messageSchema });
const historyReplySchema = z.object({ messages: z.array(messageSchema), cursor: cursorSchema });
const snapshotSchema = z.object({ cursor: cursorSchema, messages: z.array(messageSchema) });

export interface RoomContext {
	transport: Transport;
	clock: Clock;
	storage: QueueStorage;
	namespace(): string | null;
	pushTimeoutMs: number;
	historyLimit: number;
	/** Messages kept in the snapshot (0: keep no snapshot). */
	snapshotLimit: number;
	/** The confirmed side changed (refresh the view). */
	changed(room: RoomState): void;
}

export class RoomState {
	readonly topic: string;
	confirmed: ConfirmedMessages = createConfirmed();
	cursor: string | null = null;
	hasMore = false;
	unreadCount: number | null = null;
	/** The first screen is in (from the snapshot or `history`). */
	ready = false;
	/** A sync should run once this room's lane is flushed. */
	syncWanted = false;
	#ctx: RoomContext;
	#syncing = false;
	#loading = false;
	#pageWaiter: ((page: SyncCompletePayload | null) => void) | null = null;
	#stops: Unsubscribe[] = [];
	#saveScheduled = false;
	#saving: Promise<void> = Promise.resolve();

	constructor(topic: string, ctx: RoomContext) {
		this.topic = topic;
		this.#ctx = ctx;
		const { transport } = ctx;
		const onMessage = (payload: unknown) => {
			const parsed = pushSchema.safeParse(payload);
			if (parsed.success) this.merge([parsed.data.message]);
		};
		this.#stops.push(
			transport.onMessage(topic, EVENTS.newMessage, onMessage),
			transport.onMessage(topic, EVENTS.messageUpdated, onMessage),
			// One call that changed several messages: the same upserts, one frame.
			transport.onMessage(topic, EVENTS.changes, (payload) => {
				const parsed = changesSchema.safeParse(payload);
				if (parsed.success) this.merge(parsed.data.messages);
			}),
			transport.onMessage(topic, EVENTS.syncComplete, (payload) => {
				const parsed = syncCompleteSchema.safeParse(payload);
				const waiter = this.#pageWaiter;
				this.#pageWaiter = null;
				waiter?.(parsed.success ? parsed.data : null);
			})
		);
	}

	get isSyncing(): boolean {
		return this.#syncing;
	}

	/** Merge confirmed messages (pushes, replies, pages). */
	merge(messages: readonly Message[]): void {
		if (applyServerMessages(this.confirmed, messages).length === 0) return;
		this.#updateHasMore();
		this.#ctx.changed(this);
		this.#saveSoon();
	}

	/** Forget everything (user switch); the snapshot of the new user is loaded by `loadSnapshot`. */
	reset(): void {
		this.confirmed = createConfirmed();
		this.cursor = null;
		this.hasMore = false;
		this.unreadCount = null;
		this.ready = false;
		this.syncWanted = false;
		this.#pageWaiter?.(null);
		this.#ctx.changed(this);
	}

	/** Seed from the stored snapshot, if any. */
	async loadSnapshot(): Promise<void> {
		const namespace = this.#ctx.namespace();
		if (namespace === null || this.#ctx.snapshotLimit === 0) return;
		try {
			const parsed = snapshotSchema.safeParse(await this.#ctx.storage.getMeta(namespace, snapshotKey(this.topic)));
			if (!parsed.success || this.#ctx.namespace() !== namespace || this.cursor !== null) return;
			this.cursor = parsed.data.cursor;
			this.ready = true;
			this.merge(parsed.data.messages);
			this.#ctx.changed(this);
		} catch {
			// No snapshot: the first join loads history instead.
		}
	}

	/** The topic is joined (again): load the first screen, or ask for a sync after the flush. */
	joined(): void {
		if (this.cursor === null) void this.#loadFirst();
		else this.syncWanted = true;
	}

	/** One sync run from the cursor, paging until `complete`. Returns false when it could not finish. */
	async sync(): Promise<boolean> {
		if (this.#syncing) {
			this.syncWanted = true;
			return false;
		}
		this.#syncing = true;
		this.syncWanted = false;
		try {
			for (;;) {
				const page = new Promise<SyncCompletePayload | null>((resolve) => (this.#pageWaiter = resolve));
				const timer = this.#ctx.clock.setTimeout(() => this.#pageWaiter?.(null), this.#ctx.pushTimeoutMs);
				const reply = await this.#push(EVENTS.sync, { since: this.cursor });
				if (reply.status !== 'ok') {
					this.#ctx.clock.clearTimeout(timer);
					this.#pageWaiter = null;
					// A cursor the server no longer knows: start again from the beginning.
					if (reply.status === 'error' && reply.response.reason === 'invalid' && this.cursor !== null) this.cursor = null;
					this.syncWanted = true;
					return false;
				}
				const data = await page;
				this.#ctx.clock.clearTimeout(timer);
				if (!data) {
					this.syncWanted = true;
					return false;
				}
				this.cursor = data.cursor;
				this.unreadCount = data.unread_count;
				this.ready = true;
				this.merge(data.messages);
				this.#ctx.changed(this);
				this.#saveSoon();
				if (data.complete) return true;
			}
		} finally {
			this.#syncing = false;
		}
	}

	/** Load up to `limit` messages older than the oldest held; returns how many came. */
	async loadOlder(limit = this.#ctx.historyLimit): Promise<number> {
		const before = this.confirmed.order[0]?.seq ?? null;
		const reply = await this.#push(EVENTS.history, { before, limit });
		if (reply.status !== 'ok') throw new Error(`loadOlder: history ${describe(reply)}`);
		const parsed = historyReplySchema.safeParse(reply.response);
		if (!parsed.success) throw new Error('loadOlder: the history reply does not match the contract');
		const { messages, cursor } = parsed.data;
		if (this.cursor === null) {
			this.cursor = cursor;
			// Stored even when the room is empty: a reload offline then shows it
			// ready, and whatever gets confirmed later (by a service worker, say)
			// has a snapshot to go into.
			this.#saveSoon();
		}
		if (messages.length === 0) this.hasMore = false;
		this.merge(messages);
		this.#ctx.changed(this);
		return messages.length;
	}

	/** Stop listening (room left, engine closed). */
	detach(): void {
		for (const stop of this.#stops.splice(0)) stop();
		this.#pageWaiter?.(null);
	}

	async #loadFirst(): Promise<void> {
		if (this.#loading) return;
		this.#loading = true;
		try {
			await this.loadOlder(this.#ctx.historyLimit);
			this.ready = true;
			this.#ctx.changed(this);
		} catch {
			this.syncWanted = this.cursor !== null;
		} finally {
			this.#loading = false;
		}
	}

	#push(event: string, payload: Record<string, unknown>): Promise<PushResult> {
		return this.#ctx.transport.push(this.topic, event, payload, this.#ctx.pushTimeoutMs);
	}

	#updateHasMore(): void {
		const first = this.confirmed.order[0];
		this.hasMore = first !== undefined && first.seq > 1;
	}

	#saveSoon(): void {
		const namespace = this.#ctx.namespace();
		if (this.#saveScheduled || namespace === null || this.#ctx.snapshotLimit === 0 || this.cursor === null) return;
		this.#saveScheduled = true;
		this.#saving = this.#saving.then(async () => {
			this.#saveScheduled = false;
			if (this.#ctx.namespace() !== namespace || this.cursor === null) return;
			const messages = this.confirmed.order.slice(-this.#ctx.snapshotLimit);
			try {
				await this.#ctx.storage.setMeta(namespace, snapshotKey(this.topic), { cursor: this.cursor, messages });
			} catch {
				// A snapshot is a cache: losing one write costs a longer sync, not data.
			}
		});
	}
}

function describe(result: PushResult): string {
	return result.status === 'error' ? `error ${result.response.reason}` : result.status;
}
