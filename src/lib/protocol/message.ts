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
	/**
	 * The files the message carries, in the order sent (a deleted message
	 * carries none). This server always sends the list, empty when there are
	 * none; optional so that messages cached before attachments existed still fit.
	 */
	attachments?: Attachment[];
}

/** A file carried by a message: what `POST /api/uploads` answered, less the hash. */
export interface Attachment {
	/** The upload id; the bytes are at `GET /api/uploads/<id>`. */
	id: string;
	/** Display name (sanitised: no path, no control characters). */
	name: string;
	/** One of `UPLOAD_TYPES`. */
	type: string;
	/** Bytes. */
	size: number;
}

export interface User {
	id: string;
	name: string;
}
