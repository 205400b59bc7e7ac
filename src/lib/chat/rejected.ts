/**
 * Sends refused before they were queued (an empty or too long body, a device
 * out of space): kept as failed rows with their text, in `localStorage`
 * (synchronous, and a different store than the queue's, which may be the one
 * that is full), so a reload does not lose what the user typed. One list per
 * user and room; a row leaves when the user fixes and retries it, or discards it.
 */
import { WritableValue } from '../outbox/index.js';
import type { ViewMessage } from './view.js';

/** Where the lists are kept (default: `localStorage`, when the page may use it). */
export interface KeyValueStore {
	getItem(key: string): string | null;
	setItem(key: string, value: string): void;
	removeItem(key: string): void;
}

/** The key of one user's refused sends in one room. */
export const rejectedKey = (userId: string, topic: string) => `outbox:rejected:${userId}:${topic}`;

interface StoredRejection {
	id: string;
	body: string;
	message: string;
	at: number;
}

const isRejectionList = (value: unknown): value is StoredRejection[] =>
	Array.isArray(value) && value.every((r) => r && typeof r.id === 'string' && typeof r.body === 'string' && typeof r.message === 'string' && typeof r.at === 'number');

/** The default store: `localStorage`, or nothing where it is missing or blocked. */
export function defaultKeyValueStore(): KeyValueStore | null {
	try {
		return globalThis.localStorage ?? null;
	} catch {
		return null; // blocked (a sandboxed frame, some privacy modes)
	}
}

export class RejectedSends {
	/** The rows, newest last. */
	readonly rows = new WritableValue<readonly ViewMessage[]>([]);
	#store: KeyValueStore | null;
	#user: { id: string; name: string } | null = null;
	#topic: string;
	#now: () => number;
	#counter = 0;

	constructor(topic: string, store: KeyValueStore | null, now: () => number) {
		this.#topic = topic;
		this.#store = store;
		this.#now = now;
	}

	/** Switch to `user`'s list (null: none). */
	load(user: { id: string; name: string } | null): void {
		this.#user = user;
		if (user === null) return this.rows.set([]);
		let stored: StoredRejection[] = [];
		try {
			const raw = this.#store?.getItem(rejectedKey(user.id, this.#topic));
			const value: unknown = raw ? JSON.parse(raw) : [];
			if (isRejectionList(value)) stored = value;
		} catch {
			// unreadable: start empty
		}
		this.rows.set(stored.map((r) => this.#row(r)));
	}

	/** Keep a refused send; returns its row. */
	add(body: string, message: string): ViewMessage {
		const row = this.#row({ id: `local-${this.#now().toString(36)}-${++this.#counter}`, body, message, at: this.#now() });
		this.#save([...this.rows.get(), row]);
		return row;
	}

	remove(clientId: string): void {
		const rows = this.rows.get();
		const next = rows.filter((row) => row.clientId !== clientId);
		if (next.length !== rows.length) this.#save(next);
	}

	#save(rows: ViewMessage[]): void {
		this.rows.set(rows);
		const user = this.#user;
		if (!user || !this.#store) return;
		const key = rejectedKey(user.id, this.#topic);
		try {
			if (rows.length === 0) this.#store.removeItem(key);
			else this.#store.setItem(key, JSON.stringify(rows.map((r) => ({ id: r.clientId, body: r.body, message: r.error?.message ?? '', at: r.error?.at ?? 0 }))));
		} catch {
			// Storage full or blocked: the row still shows for this visit.
		}
	}

	#row(r: StoredRejection): ViewMessage {
		const author = this.#user ?? { id: '', name: '' };
		return {
			key: `${author.id}/${r.id}`,
			clientId: r.id,
			id: null,
			seq: null,
			author,
			body: r.body,
			deleted: false,
			status: 'failed',
			error: { reason: 'invalid', verdict: 'fail', message: r.message, at: r.at },
			message: null,
			item: null
		};
	}
}
