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
