/**
 * A shared checklist on the Outbox kit, as a team with its own Phoenix
 * backend would write it: three action types of its own, an optimistic view
 * of its own data, server pushes on its own topic, and a sync routine.
 * Nothing here knows of chat messages; it imports only the `outbox` package.
 */
import { createBrowserOutbox, defineAction, WritableValue, type Observable, type Outbox, type Topic } from 'outbox';

/** One checklist item as the server sends it. `pending`: a change of ours is not confirmed yet. */
export interface Item {
	id: string;
	title: string;
	done: boolean;
	version: number;
	pending?: boolean;
	failed?: string;
}

type Items = readonly Item[];

/** A title: trimmed, 1–200 characters (the server checks the same). */
function title(value: unknown): string {
	const text = typeof value === 'string' ? value.trim() : '';
	if (text === '' || text.length > 200) throw new Error("title: can't be blank or longer than 200 characters");
	return text;
}

function object(value: unknown): Record<string, unknown> {
	if (value === null || typeof value !== 'object') throw new Error('the payload must be an object');
	return value as Record<string, unknown>;
}

/** Mark an item as carrying a change of ours (pending, or failed with why). */
function mark(item: Item, mode: 'pending' | 'show' | 'mark', reason: string | undefined): Item {
	return mode === 'pending' ? { ...item, pending: true } : { ...item, pending: false, failed: reason ?? 'refused' };
}

function update(items: Items, id: string, change: (item: Item) => Item): Items {
	return items.map((item) => (item.id === id ? change(item) : item));
}

/** The app's action types: typed payloads and replies, each with its optimistic effect on the item list. */
export const actions = {
	item_add: defineAction<{ title: string }, { item: Item }, Items>({
		schema: (payload) => ({ title: title(object(payload).title) }),
		batchable: true,
		optimistic: (items, payload, { item, mode }) =>
			items.some((i) => i.id === item.id) ? items : [...items, mark({ id: item.id, title: payload.title, done: false, version: 0 }, mode, item.lastError?.message)]
	}),
	item_toggle: defineAction<{ id: string; done: boolean }, { item: Item }, Items>({
		schema: (payload) => {
			const p = object(payload);
			if (typeof p.id !== 'string' || typeof p.done !== 'boolean') throw new Error('item_toggle needs {id, done}');
			return { id: p.id, done: p.done };
		},
		batchable: true,
		optimistic: (items, payload, { item, mode }) => update(items, payload.id, (i) => mark({ ...i, done: mode === 'mark' ? i.done : payload.done }, mode, item.lastError?.message))
	}),
	item_rename: defineAction<{ id: string; title: string }, { item: Item }, Items>({
		schema: (payload) => {
			const p = object(payload);
			if (typeof p.id !== 'string') throw new Error('item_rename needs {id, title}');
			return { id: p.id, title: title(p.title) };
		},
		batchable: true,
		optimistic: (items, payload, { item, mode }) => update(items, payload.id, (i) => mark({ ...i, title: mode === 'mark' ? i.title : payload.title }, mode, item.lastError?.message))
	})
};

export type ChecklistOutbox = Outbox<typeof actions>;

/** The item list of one `list:<id>` topic: confirmed state, kept fresh, stored for offline, and its optimistic view. */
export interface Checklist {
	readonly topic: Topic;
	/** Confirmed items with our pending changes applied. */
	readonly view: Observable<Items>;
	add(text: string): Promise<unknown>;
	toggle(item: Item): Promise<unknown>;
	rename(item: Item, text: string): Promise<unknown>;
	close(): void;
}

/** Read an item the server sent; null when it is not one. */
function readItem(raw: unknown): Item | null {
	const r = raw as Partial<Item> | null;
	if (!r || typeof r.id !== 'string' || typeof r.title !== 'string' || typeof r.done !== 'boolean' || typeof r.version !== 'number') return null;
	return { id: r.id, title: r.title, done: r.done, version: r.version };
}

export function openChecklist(outbox: ChecklistOutbox, listId: string): Checklist {
	const topic = outbox.topic(`list:${listId}`);
	const metaKey = `checklist:${listId}`;
	const confirmed = new WritableValue<Items>([]);
	const save = () => void outbox.meta.set(metaKey, confirmed.get()).catch(() => {});
	/** Keep the newest version of each item (pushes and replies may come twice or late). */
	const upsert = (incoming: readonly Item[]) => {
		let next = confirmed.get();
		for (const item of incoming) {
			const held = next.find((i) => i.id === item.id);
			if (held && held.version >= item.version) continue;
			next = held ? next.map((i) => (i.id === item.id ? item : i)) : [...next, item];
		}
		if (next !== confirmed.get()) {
			confirmed.set(next);
			save();
		}
	};
	const refuse = (event: string, payload: unknown) => topic.reportRefused(event, 'not an item', payload);

	const stops = [
		// What this list looked like last time: shown at once, offline too.
		void outbox.meta.get(metaKey).then((stored) => {
			const items = Array.isArray(stored) ? stored.map(readItem).filter((i): i is Item => i !== null) : [];
			if (confirmed.get().length === 0) confirmed.set(items);
		}),
		topic.hold(),
		topic.on('item_changed', (payload) => {
			const item = readItem((payload as { item?: unknown } | null)?.item);
			if (item) upsert([item]);
			else refuse('item_changed', payload);
		}),
		// Our own change confirmed: merge the server's copy before the queue drops the pending one (no flicker).
		topic.onConfirmed((_item, response) => {
			const item = readItem((response as { item?: unknown } | null)?.item);
			if (item) upsert([item]);
		}),
		// After a reconnect (once our queued changes are in) and on demand: the server's list is the truth.
		topic.onSync(async () => {
			const reply = await topic.request('fetch', {});
			if (reply.status !== 'ok') return false;
			const raw = (reply.response as { items?: unknown } | null)?.items;
			if (!Array.isArray(raw)) {
				refuse('fetch', reply.response);
				return false;
			}
			confirmed.set(raw.map(readItem).filter((i): i is Item => i !== null));
			save();
			return true;
		})
	];
	topic.requestSync();

	return {
		topic,
		view: topic.view(confirmed),
		add: (text) => outbox.add('item_add', topic.name, { title: text }),
		toggle: (item) => outbox.add('item_toggle', topic.name, { id: item.id, done: !item.done }),
		rename: (item, text) => outbox.add('item_rename', topic.name, { id: item.id, title: text }),
		close() {
			for (const stop of stops) if (typeof stop === 'function') stop();
		}
	};
}

/** The engine for one signed-in person (a demo token: the server takes `user-<name>`). */
export function createChecklistOutbox(name: string): ChecklistOutbox {
	return createBrowserOutbox({
		actions,
		token: () => `user-${name}`,
		user: { id: name, name },
		// The server pushes every change, ours included, as `item_changed`; its batch event takes our three types.
		batchEvent: 'batch'
	});
}
