/** A chat message as the server sends it (DESIGN.md `message`). */
export interface Message {
	id: string;
	client_id: string;
	/** The room slug, without the `room:` prefix. */
	room: string;
	author: { id: string; name: string };
	body: string;
	/** Per-room, gap-free, strictly increasing; given at creation. */
	seq: number;
	/** 1 at creation, +1 for each edit or deletion. */
	version: number;
	deleted: boolean;
	/** ISO 8601. */
	inserted_at: string;
	/** ISO 8601. */
	updated_at: string;
}

export interface User {
	id: string;
	name: string;
}
