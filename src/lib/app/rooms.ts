/**
 * Rooms as the app lists them: the server's list (`GET /api/rooms`) merged
 * with the rooms this user visited on this device (kept in localStorage, so
 * the list is there offline), plus who is behind a direct conversation.
 * Plain functions; `room-directory.svelte.ts` holds the state.
 */
import { DM_SLUG_RE, dmSlug } from '../protocol/events.js';
import type { RoomEntry } from '../components/index.js';

/** One room of `GET /api/rooms`. */
export interface ServerRoom {
	slug: string;
	unread_count: number;
	last_seq: number;
}

/** Rooms visited on this device, per user. */
export const visitedKey = (userId: string) => `outbox:rooms:${userId}`;
/** Names of people seen in rooms (id -> name), per user, to label direct conversations. */
export const peopleKey = (userId: string) => `outbox:people:${userId}`;

/** Sends of a room refused before they were queued (kept so a reload keeps their text), per user. */
export const rejectedKey = (userId: string, slug: string) => `outbox:rejected:${userId}:${slug}`;

export const DEFAULT_ROOM = 'lobby';

/** Whether `me` may open `slug`, as the server decides it (`roomAccess`), known before any network. */
export function roomAccess(slug: string, me: string): 'ok' | 'forbidden' {
	if (!slug.startsWith('dm-')) return 'ok';
	const match = DM_SLUG_RE.exec(slug);
	if (!match) return 'forbidden';
	const [, a, b] = match as unknown as [string, string, string];
	return a < b && (me === a || me === b) ? 'ok' : 'forbidden';
}

/** The other person of a direct conversation `me` is in, or null. */
export function dmPartner(slug: string, me: string): string | null {
	const match = DM_SLUG_RE.exec(slug);
	if (!match) return null;
	const [, a, b] = match as unknown as [string, string, string];
	if (me === a) return b;
	if (me === b) return a;
	return null;
}

/** The direct conversation's slug with `other`, or an error sentence. */
export function directSlug(me: string, other: string): { slug: string } | { error: string } {
	const id = other.trim().toLowerCase().replace(/^@/, '');
	if (!/^[a-z0-9]+$/.test(id)) return { error: 'A user id has only lowercase letters and digits.' };
	if (id === me) return { error: "That's your own id — ask the other person for theirs." };
	const slug = dmSlug(me, id);
	if (slug.length > 40) return { error: 'That id is too long.' };
	return { slug };
}

/** The list to show: lobby first, then the rest by name; `current` always in it. */
export function mergeRooms(
	server: readonly ServerRoom[],
	visited: readonly string[],
	current: string | null,
	me: string,
	people: Readonly<Record<string, string>>
): RoomEntry[] {
	const unread = new Map<string, number>();
	for (const room of server) unread.set(room.slug, room.unread_count);
	const slugs = new Set<string>([DEFAULT_ROOM, ...server.map((r) => r.slug), ...visited]);
	if (current) slugs.add(current);
	const entries: RoomEntry[] = [];
	for (const slug of slugs) {
		if (roomAccess(slug, me) !== 'ok') continue;
		const partner = dmPartner(slug, me);
		const entry: RoomEntry = { slug, unread_count: slug === current ? 0 : (unread.get(slug) ?? 0) };
		if (partner) entry.label = `@ ${people[partner] ?? partner}`;
		entries.push(entry);
	}
	const rank = (e: RoomEntry) => (e.slug === DEFAULT_ROOM ? 0 : e.slug.startsWith('dm-') ? 2 : 1);
	return entries.sort((a, b) => rank(a) - rank(b) || (a.label ?? a.slug).localeCompare(b.label ?? b.slug));
}

export function readJson<T>(key: string, fallback: T, check: (value: unknown) => boolean): T {
	try {
		const raw = globalThis.localStorage?.getItem(key);
		if (!raw) return fallback;
		const value: unknown = JSON.parse(raw);
		return check(value) ? (value as T) : fallback;
	} catch {
		return fallback;
	}
}

export function writeJson(key: string, value: unknown): void {
	try {
		globalThis.localStorage?.setItem(key, JSON.stringify(value));
	} catch {
		// Storage full or blocked: the list is a convenience.
	}
}

export function removeKey(key: string): void {
	try {
		globalThis.localStorage?.removeItem(key);
	} catch {
		// Blocked storage: nothing was kept either.
	}
}

/** `GET /api/rooms`; null when it could not be read (offline, signed out). */
export async function fetchRooms(fetchFn: typeof fetch = fetch): Promise<ServerRoom[] | null> {
	try {
		// The session cookie signs it in (page scripts hold no token).
		const response = await fetchFn('/api/rooms', { credentials: 'same-origin', cache: 'no-store' });
		if (!response.ok) return null;
		const body = (await response.json()) as { rooms?: unknown };
		if (!Array.isArray(body.rooms)) return null;
		return body.rooms.filter(
			(r): r is ServerRoom => !!r && typeof r.slug === 'string' && typeof r.unread_count === 'number'
		);
	} catch {
		return null;
	}
}
