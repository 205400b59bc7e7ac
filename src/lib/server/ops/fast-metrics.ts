/**
 * Counters and histograms for hot paths, exposed through prom-client's
 * registry. prom-client's labelled `inc()`/`observe()` build a key string
 * from the labels on every call (about 1–2 µs, and garbage); here each
 * series is an object made once at start, and counting is `cell.value++`
 * or a bucket search over a few numbers. The text is built only when
 * `/metrics` is scraped.
 */
import type { Registry } from 'prom-client';

type Labels = Record<string, string>;

/** One counter series. */
export class CounterCell {
	value = 0;
	constructor(readonly labels: Labels) {}

	inc(): void {
		this.value++;
	}
}

/** One histogram series: counts per bucket (not cumulative), sum and count. */
export class HistogramCell {
	readonly counts: Float64Array;
	sum = 0;
	count = 0;

	constructor(
		readonly labels: Labels,
		readonly bounds: readonly number[]
	) {
		this.counts = new Float64Array(bounds.length);
	}

	observe(value: number): void {
		this.sum += value;
		this.count++;
		const bounds = this.bounds;
		for (let i = 0; i < bounds.length; i++) {
			if (value <= bounds[i]!) {
				this.counts[i]!++;
				return;
			}
		}
	}
}

/** What prom-client's registry reads from a metric when it renders (`Registry.getMetricsAsString`). */
interface MetricValues {
	name: string;
	help: string;
	type: 'counter' | 'histogram';
	aggregator: 'sum';
	values: Array<{ labels: Labels; value: number; metricName?: string }>;
}

export class FastCounter {
	readonly #cells: CounterCell[] = [];

	constructor(
		readonly name: string,
		readonly help: string,
		registry: Registry
	) {
		registry.registerMetric(this as never);
	}

	/** The series for these labels; make each once, at start. */
	cell(labels: Labels): CounterCell {
		const cell = new CounterCell(labels);
		this.#cells.push(cell);
		return cell;
	}

	get(): MetricValues {
		const values = this.#cells.filter((c) => c.value > 0).map((c) => ({ labels: c.labels, value: c.value }));
		return { name: this.name, help: this.help, type: 'counter', aggregator: 'sum', values };
	}

	reset(): void {
		for (const cell of this.#cells) cell.value = 0;
	}
}

export class FastHistogram {
	readonly #cells: HistogramCell[] = [];

	constructor(
		readonly name: string,
		readonly help: string,
		readonly bounds: readonly number[],
		registry: Registry
	) {
		registry.registerMetric(this as never);
	}

	cell(labels: Labels = {}): HistogramCell {
		const cell = new HistogramCell(labels, this.bounds);
		this.#cells.push(cell);
		return cell;
	}

	get(): MetricValues {
		const values: MetricValues['values'] = [];
		for (const cell of this.#cells) {
			if (cell.count === 0) continue;
			let cumulative = 0;
			this.bounds.forEach((bound, i) => {
				cumulative += cell.counts[i]!;
				values.push({ metricName: `${this.name}_bucket`, labels: { le: String(bound), ...cell.labels }, value: cumulative });
			});
			values.push({ metricName: `${this.name}_bucket`, labels: { le: '+Inf', ...cell.labels }, value: cell.count });
			values.push({ metricName: `${this.name}_sum`, labels: cell.labels, value: cell.sum });
			values.push({ metricName: `${this.name}_count`, labels: cell.labels, value: cell.count });
		}
		return { name: this.name, help: this.help, type: 'histogram', aggregator: 'sum', values };
	}

	reset(): void {
		for (const cell of this.#cells) {
			cell.counts.fill(0);
			cell.sum = 0;
			cell.count = 0;
		}
	}
}
