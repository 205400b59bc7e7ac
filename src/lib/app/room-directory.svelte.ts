/**
 * The room list's state for the signed-in user: the server's rooms with
 * unread counts (refreshed when the connection comes up and when a room is
 * opened), the rooms visited on this device (localStorage, so the list shows
 * offline too), and the names of people seen (to label direct conversations).
 */
import type { RoomEntry } from '../components/index.js';
import type { Session } from './session.js';
import { fetchRooms, mergeRooms, roomAccess, peopleKey, readJson, visitedKey, writeJson, type ServerRoom } from './rooms.js';

const isStringArray = (v: unknown) => Array.isArray(v) && v.every((s) => typeof s === 'string');
const isStringRecord = (v: unknown) =>
	!!v && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((s) => typeof s === 'string');

export class RoomDirectory {
	#session: () => Session | null;
	#server = $state.raw<ServerRoom[]>([]);
	#visited = $state.raw<string[]>([]);
	#people = $state.raw<Record<string, string>>({});
	#current = $state<string | null>(null);
	#userId: string | null = null;
	#refreshing: Promise<void> | null = null;

	constructor(session: () => Session | null) {
		this.#session = session;
		this.reset();
	}

	/** The list to render (RoomList's `rooms`). */
	get entries(): RoomEntry[] {
		const me = this.#session()?.user.id;
		return me ? mergeRooms(this.#server, this.#visited, this.#current, me, this.#people) : [];
	}

	/** A name for a user id, if one was seen. */
	nameOf(id: string): string | null {
		return this.#people[id] ?? null;
	}

	/** The signed-in user changed: load their lists. */
	reset(): void {
		const me = this.#session()?.user.id ?? null;
		if (me === this.#userId) return;
		this.#userId = me;
		this.#server = [];
		this.#current = null;
		this.#visited = me ? readJson<string[]>(visitedKey(me), [], isStringArray) : [];
		this.#people = me ? readJson<Record<string, string>>(peopleKey(me), {}, isStringRecord) : {};
		void this.refresh();
	}

	/** `slug` is open: remember it, and it has nothing unread any more. */
	open(slug: string | null): void {
		this.#current = slug;
		const me = this.#userId;
		if (!slug || !me) return;
		this.#server = this.#server.map((room) => (room.slug === slug ? { ...room, unread_count: 0 } : room));
		if (this.#visited.includes(slug) || roomAccess(slug, me) !== 'ok') return;
		this.#visited = [...this.#visited, slug];
		writeJson(visitedKey(me), this.#visited);
	}

	/** Note the names of people seen in a room. */
	learn(people: Iterable<{ id: string; name: string }>): void {
		const me = this.#userId;
		if (!me) return;
		let next: Record<string, string> | null = null;
		for (const person of people) {
			if (person.id === me || (next ?? this.#people)[person.id] === person.name) continue;
			next ??= { ...this.#people };
			next[person.id] = person.name;
		}
		if (!next) return;
		this.#people = next;
		writeJson(peopleKey(me), next);
	}

	/** Ask the server for the rooms and their unread counts (quietly does nothing offline). */
	refresh(): Promise<void> {
		const session = this.#session();
		if (!session || typeof window === 'undefined') return Promise.resolve();
		this.#refreshing ??= fetchRooms()
			.then((rooms) => {
				if (!rooms || this.#session()?.user.id !== session.user.id) return;
				const current = this.#current;
				this.#server = rooms.map((room) => (room.slug === current ? { ...room, unread_count: 0 } : room));
			})
			.finally(() => (this.#refreshing = null));
		return this.#refreshing;
	}
}
