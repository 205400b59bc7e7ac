/**
 * Every app-level wire name in one place (the Phoenix-level names live in
 * `phoenix.ts`). Code never spells these strings anywhere else.
 */
export const EVENTS = {
	sendMessage: 'send_message',
	editMessage: 'edit_message',
	deleteMessage: 'delete_message',
	markRead: 'mark_read',
	sendBatch: 'send_batch',
	sync: 'sync',
	history: 'history',
	// server -> client pushes
	newMessage: 'new_message',
	messageUpdated: 'message_updated',
	/** One call changed several messages (`send_batch`, `POST /api/sync/events`): `{messages}`, latest states in change order. */
	changes: 'changes',
	syncComplete: 'sync:complete'
} as const;

/** The action types that may appear in a queue and inside `send_batch`. */
export const ACTION_TYPES = [
	EVENTS.sendMessage,
	EVENTS.editMessage,
	EVENTS.deleteMessage,
	EVENTS.markRead
] as const;
export type ActionType = (typeof ACTION_TYPES)[number];

export const ROOM_TOPIC_PREFIX = 'room:';
export const SOCKET_PATH = '/socket/websocket';
export const SOCKET_ENDPOINT = '/socket';

/** Limits of the contract; each one has a test. */
export const LIMITS = {
	bodyMaxChars: 4000,
	batchMaxActions: 100,
	historyMaxLimit: 200,
	syncPageMax: 500,
	clientIdMaxChars: 64,
	nameMaxChars: 32,
	passwordMinChars: 1,
	passwordMaxChars: 200,
	slugMaxChars: 40,
	/** Files one message may carry. */
	attachmentsMax: 4,
	/** Bytes of one uploaded file (10 MiB). */
	uploadMaxBytes: 10 * 1024 * 1024,
	/** Bytes one user may upload in any rolling `uploadQuotaWindowMs` (100 MiB), the current file included. */
	uploadQuotaBytes: 100 * 1024 * 1024,
	uploadQuotaWindowMs: 24 * 60 * 60 * 1000,
	/** Characters (code points) of an upload's display name. */
	uploadNameMaxChars: 200
} as const;

/** The file types an upload may have; the bytes must match the type (DESIGN.md Attachments). */
export const UPLOAD_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'application/pdf', 'text/plain'] as const;
export type UploadType = (typeof UPLOAD_TYPES)[number];

const IMAGE_TYPES: ReadonlySet<string> = new Set(UPLOAD_TYPES.filter((type) => type.startsWith('image/')));

/** Whether an upload type is an image (shown as a thumbnail, served inline). */
export function isImageType(type: string): boolean {
	return IMAGE_TYPES.has(type);
}

/** Path of the upload endpoint: `POST` a file here, `GET` it at `${UPLOADS_PATH}/<id>`. */
export const UPLOADS_PATH = '/api/uploads';

/** `room:<slug>` -> slug, or null when the topic is not a room topic. */
export function roomSlugFromTopic(topic: string): string | null {
	if (!topic.startsWith(ROOM_TOPIC_PREFIX)) return null;
	const slug = topic.slice(ROOM_TOPIC_PREFIX.length);
	return SLUG_RE.test(slug) ? slug : null;
}

export function roomTopic(slug: string): string {
	return ROOM_TOPIC_PREFIX + slug;
}

export const SLUG_RE = /^[a-z0-9-]{1,40}$/;
export const DM_SLUG_RE = /^dm-([a-z0-9]+)-([a-z0-9]+)$/;

/** The slug of the direct conversation between two users (ids in ascending string order). */
export function dmSlug(a: string, b: string): string {
	return a < b ? `dm-${a}-${b}` : `dm-${b}-${a}`;
}
