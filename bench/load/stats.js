// Small, exact statistics over a list of numbers (latencies in ms).

/** The q-quantile (0..1) by nearest rank over sorted values; null for none. */
export function quantile(sorted, q) {
	if (sorted.length === 0) return null;
	const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
	return sorted[rank];
}

/** p50, p99 and max of `values` (ms, rounded to 0.1), and how many. */
export function summary(values) {
	const sorted = Float64Array.from(values).sort();
	const round = (v) => (v === null ? null : Math.round(v * 10) / 10);
	return { n: sorted.length, p50: round(quantile(sorted, 0.5)), p99: round(quantile(sorted, 0.99)), max: round(sorted.length ? sorted[sorted.length - 1] : null) };
}
