/**
 * The arithmetic of MessageList's variable-height virtualizer, kept pure so it
 * reads (and tests) apart from the DOM: row offsets from measured heights (an
 * estimate for rows never measured), and the index range that covers a
 * scroll window.
 */

/** Height assumed for a row that has never been rendered, before any row is measured. */
export const DEFAULT_ROW_ESTIMATE = 72;

/**
 * Prefix sums of row heights: `offsets[i]` is the top of row `i`, `offsets[n]`
 * the total height. Rows without a measurement count as `estimate`.
 */
export function rowOffsets(
	rows: readonly { readonly key: string }[],
	heights: ReadonlyMap<string, number>,
	estimate: number
): Float64Array {
	const offsets = new Float64Array(rows.length + 1);
	let y = 0;
	for (let i = 0; i < rows.length; i++) {
		offsets[i] = y;
		y += heights.get((rows[i] as { key: string }).key) ?? estimate;
	}
	offsets[rows.length] = y;
	return offsets;
}

/** The index of the row that contains `y` (clamped to the rows). Binary search. */
export function rowAt(offsets: Float64Array, y: number): number {
	const n = offsets.length - 1;
	if (n <= 0) return 0;
	let lo = 0;
	let hi = n - 1;
	while (lo < hi) {
		const mid = (lo + hi + 1) >> 1;
		if ((offsets[mid] as number) <= y) lo = mid;
		else hi = mid - 1;
	}
	return lo;
}

/**
 * Rows `[start, end)` that intersect `[top - overscan, top + height + overscan]`.
 *
 * @example
 * const { start, end } = windowRange(offsets, scrollTop, clientHeight, 600);
 */
export function windowRange(
	offsets: Float64Array,
	top: number,
	height: number,
	overscan: number
): { start: number; end: number } {
	const n = offsets.length - 1;
	if (n <= 0) return { start: 0, end: 0 };
	const start = rowAt(offsets, Math.max(0, top - overscan));
	const end = Math.min(n, rowAt(offsets, top + height + overscan) + 1);
	return { start, end };
}
