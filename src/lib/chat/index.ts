/**
 * The chat preset: Outbox's chat (rooms of messages over `room:<slug>`
 * topics) as one app of the generic kit, on its public API only.
 */
export { chatActions, type ChatActions, type MessageReply } from './actions.js';
export { createChat, type Chat, type ChatOptions } from './chat.js';
export { createBrowserChat, SESSION_URL, SOCKET_TOKEN_URL, type BrowserChatOptions } from './browser.js';
export { createRoom, type Room, type RoomView, type SendOutcome } from './room.js';
export { RoomState, DEFAULT_SNAPSHOT_LIMIT, snapshotKey } from './room-state.js';
export { RejectedSends, rejectedKey, type KeyValueStore } from './rejected.js';
export { buildView, type ViewMessage, type ViewStatus, type ViewOptions } from './view.js';
export { applyServerMessages, createConfirmed, findByClientId, type ConfirmedMessages } from './confirmed.js';
export { readMessage, readMessages, readSnapshot, readSyncPage, type Snapshot, type SyncPage } from './wire.js';
export {
	ACCEPT_ATTRIBUTE,
	attachmentsOf,
	checkFiles,
	formatSize,
	isImageType,
	localAttachments,
	sendMessageWire,
	uploadUrl,
	type AttachmentStatus,
	type ViewAttachment
} from './attachments.js';
