/**
 * Sync cursors: opaque to clients, `[A-Za-z0-9._-]` only.
 *
 * - `c.<change>`: change mode. Everything up to the room's change counter
 *   `<change>` has been delivered; the next sync returns messages whose latest
 *   change is above it, in change order.
 * - `s.<change>.<afterSeq>`: a snapshot (a sync from `null`) in progress. It
 *   lists, in `seq` order, the messages above `<afterSeq>` whose latest change
 *   is at or below `<change>` (the room's counter when the snapshot began);
 *   anything changed later comes afterwards, in change mode from `c.<change>`.
 */
export type Cursor =
	| { kind: 'changes'; change: number }
	| { kind: 'snapshot'; change: number; afterSeq: number };

const CHANGES_RE = /^c\.(0|[1-9][0-9]{0,15})$/;
const SNAPSHOT_RE = /^s\.(0|[1-9][0-9]{0,15})\.(0|[1-9][0-9]{0,15})$/;

export function formatCursor(cursor: Cursor): string {
	return cursor.kind === 'changes'
		? `c.${cursor.change}`
		: `s.${cursor.change}.${cursor.afterSeq}`;
}

/** The cursor a string encodes, or null when it is not one `formatCursor` could have made. */
export function parseCursor(text: string): Cursor | null {
	const changes = CHANGES_RE.exec(text);
	if (changes) {
		const change = toSafeInteger(changes[1]!);
		return change === null ? null : { kind: 'changes', change };
	}
	const snapshot = SNAPSHOT_RE.exec(text);
	if (snapshot) {
		const change = toSafeInteger(snapshot[1]!);
		const afterSeq = toSafeInteger(snapshot[2]!);
		return change === null || afterSeq === null ? null : { kind: 'snapshot', change, afterSeq };
	}
	return null;
}

/** Whether a parsed cursor can belong to a room whose counters are at `lastChange` / `lastSeq`. */
export function cursorFitsRoom(cursor: Cursor, lastChange: number, lastSeq: number): boolean {
	if (cursor.change > lastChange) return false;
	return cursor.kind === 'changes' || cursor.afterSeq <= lastSeq;
}

function toSafeInteger(digits: string): number | null {
	const n = Number(digits);
	return Number.isSafeInteger(n) ? n : null;
}
