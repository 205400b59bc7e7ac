/**
 * The checklist server's store: items per list, and every action's outcome
 * kept by `(user, client_id)`, so an action sent again (a lost reply, a
 * retry) returns its first outcome and changes nothing. In memory: the
 * example's server lives as long as its process.
 */
export interface Item {
	id: string;
	title: string;
	done: boolean;
	version: number;
}

export type Outcome = { status: 'ok'; response: { item: Item } } | { status: 'error'; response: Record<string, unknown> };

export interface Applied {
	user: string;
	client_id: string;
	type: string;
	list: string;
}

const TYPES = new Set(['item_add', 'item_toggle', 'item_rename']);

/** An Ecto-style validation error, as a Phoenix app would reply it. */
const errors = (field: string, message: string): Outcome => ({ status: 'error', response: { errors: { [field]: [message] } } });

function cleanTitle(value: unknown): string | null {
	const text = typeof value === 'string' ? value.trim() : '';
	return text === '' || text.length > 200 ? null : text;
}

export class ChecklistStore {
	readonly #lists = new Map<string, Map<string, Item>>();
	readonly #outcomes = new Map<string, Outcome>();
	/** Every action applied, once each, in order (what the test checks against). */
	readonly applied: Applied[] = [];

	items(list: string): Item[] {
		return [...(this.#lists.get(list)?.values() ?? [])];
	}

	/** Apply one action once; the same `client_id` again returns the first outcome. */
	apply(user: string, list: string, type: string, payload: unknown): Outcome {
		const p = (payload ?? {}) as Record<string, unknown>;
		const clientId = p.client_id;
		if (typeof clientId !== 'string' || !/^[\x21-\x7e]{1,64}$/.test(clientId)) return { status: 'error', response: { reason: 'invalid', message: 'client_id is missing' } };
		const key = `${user}\u0000${clientId}`;
		const held = this.#outcomes.get(key);
		if (held) return held;
		const outcome = this.#run(list, type, p, clientId);
		this.#outcomes.set(key, outcome);
		if (outcome.status === 'ok') this.applied.push({ user, client_id: clientId, type, list });
		return outcome;
	}

	#run(list: string, type: string, p: Record<string, unknown>, clientId: string): Outcome {
		if (!TYPES.has(type)) return { status: 'error', response: { reason: 'invalid', message: `unknown action ${type}` } };
		let items = this.#lists.get(list);
		if (!items) this.#lists.set(list, (items = new Map()));
		if (type === 'item_add') {
			const title = cleanTitle(p.title);
			if (title === null) return errors('title', "can't be blank");
			// The client's id for the action names the item, so changes made offline before it is confirmed find it.
			const item: Item = { id: clientId, title, done: false, version: 1 };
			items.set(item.id, item);
			return { status: 'ok', response: { item } };
		}
		const held = typeof p.id === 'string' ? items.get(p.id) : undefined;
		if (!held) return errors('id', 'does not exist');
		let next: Item;
		if (type === 'item_toggle') {
			if (typeof p.done !== 'boolean') return errors('done', 'must be true or false');
			next = { ...held, done: p.done, version: held.version + 1 };
		} else {
			const title = cleanTitle(p.title);
			if (title === null) return errors('title', "can't be blank");
			next = { ...held, title, version: held.version + 1 };
		}
		items.set(next.id, next);
		return { status: 'ok', response: { item: next } };
	}
}
