/**
 * Outbox's presentational components: props in, callbacks out, no stores,
 * no fetching. Styled by the tokens in `theme.css` (imported here).
 *
 * @example
 * import { MessageList, Composer, ConnectionBanner } from '$lib/components';
 */
import './theme.css';

export { default as ConnectionBanner } from './ConnectionBanner.svelte';
export { default as PendingBadge } from './PendingBadge.svelte';
export { default as MessageItem } from './MessageItem.svelte';
export { default as MessageList } from './MessageList.svelte';
export { default as Composer } from './Composer.svelte';
export { default as SyncToast } from './SyncToast.svelte';
export { default as ForceSyncButton } from './ForceSyncButton.svelte';
export { default as RoomList } from './RoomList.svelte';
export type { RoomEntry } from './RoomList.svelte';
export { default as SignInForm } from './SignInForm.svelte';
export { default as StorageWarning } from './StorageWarning.svelte';
export { default as Attachment } from './Attachment.svelte';
export { default as SyncDetails } from './SyncDetails.svelte';
export { default as Icon } from './Icon.svelte';
export type { IconName } from './Icon.svelte';
export { failureText, failureReason } from './failure-text.js';
export { focusableIn, focusIsLost, focusPageHeading, keepFocus, trapTab, type LostFocus } from './focus.js';
export { Announcer } from './announcer.svelte.js';
export { slugify, isSlug } from './slug.js';
