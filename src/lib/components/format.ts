/** Small display formatters shared by the components. */

let shortTime: Intl.DateTimeFormat | undefined;
let fullDate: Intl.DateTimeFormat | undefined;

/** `9:41 AM` (the user's locale), or '' for a missing or invalid time. */
export function formatShortTime(date: Date | null): string {
	if (!date || Number.isNaN(date.getTime())) return '';
	shortTime ??= new Intl.DateTimeFormat(undefined, { timeStyle: 'short' });
	return shortTime.format(date);
}

/** `Friday, March 14, 2025 at 9:41 AM`, for a tooltip. */
export function formatFullDate(date: Date | null): string {
	if (!date || Number.isNaN(date.getTime())) return '';
	fullDate ??= new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'short' });
	return fullDate.format(date);
}

/** Characters as the server counts them (code points, so an emoji is one). */
export function countChars(text: string): number {
	let n = 0;
	for (const _ of text) n++;
	return n;
}

/** When a row was written: the server's `inserted_at`, else when the action was queued. */
export function rowTime(row: { message: { inserted_at: string } | null; item: { createdAt: number } | null }): Date | null {
	if (row.message) return new Date(row.message.inserted_at);
	return row.item ? new Date(row.item.createdAt) : null;
}

/**
 * "Last synced just now / 5 min ago / 3 h ago / on Mar 14", from a sync time
 * and now (both ms since the epoch).
 *
 * @example
 * syncedAgo(Date.now() - 5 * 60_000, Date.now()) // "Last synced 5 min ago"
 */
export function syncedAgo(at: number, now: number): string {
	const minutes = Math.floor(Math.max(0, now - at) / 60_000);
	if (minutes < 1) return 'Last synced just now';
	if (minutes < 60) return `Last synced ${minutes} min ago`;
	const hours = Math.floor(minutes / 60);
	if (hours < 24) return `Last synced ${hours} h ago`;
	const days = Math.floor(hours / 24);
	return days === 1 ? 'Last synced yesterday' : `Last synced ${days} days ago`;
}
