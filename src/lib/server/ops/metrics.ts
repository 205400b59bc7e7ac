/**
 * Prometheus metrics, one prom-client registry per server. The hot paths
 * (every channel event, every broadcast, every store write) bump a series
 * made once at start (fast-metrics.ts): two Map lookups and an add, no
 * allocation, and every label takes a value from a fixed list, so the
 * number of series cannot grow with traffic. Gauges are read, and the text
 * built, only when `/metrics` is scraped.
 *
 * ```ts
 * const metrics = createMetrics({ events: ['send_message'], sockets: () => 3, channels: () => 5 });
 * metrics.event('send_message', 'ok', 0.002);
 * res.end(await metrics.render());
 * ```
 */
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { REASONS } from '../../protocol/reasons.js';
import { FastCounter, FastHistogram, type CounterCell, type HistogramCell } from './fast-metrics.js';

/** Outcomes of a channel event: ok, an error reason of the contract, no reply, or a crash. */
export const EVENT_OUTCOMES = ['ok', ...REASONS, 'error', 'noreply', 'crash'] as const;

/** Why a connect, join or HTTP call was refused (anything else counts as `other`). */
export const REFUSAL_KINDS = [
	'connect_token',
	'connect_origin',
	'connect_version',
	'connect_closing',
	'connect_error',
	'join_forbidden',
	'join_unauthorized',
	'join_invalid',
	'http_unauthorized',
	'http_forbidden',
	'other'
] as const;

/** Which limit said no (anything else counts as `other`). */
export const RATE_LIMIT_KINDS = ['socket_events', 'socket_pipeline', 'sign_in', 'sync_events', 'http', 'other'] as const;

/** Store calls timed as commits: the writes. */
export const STORE_WRITES = ['applyActions', 'createUser', 'revokeToken', 'ensureRoom'] as const;

export interface MetricsOptions {
	/** Event names the channels route (others count as `unknown`). */
	events: readonly string[];
	/** Open sockets (WebSocket and LongPoll) in this process, read at scrape time. */
	sockets(): number;
	/** Joined channels in this process, read at scrape time. */
	channels(): number;
	/** Collect process figures (CPU, memory, event loop lag, handles); default true. */
	processMetrics?: boolean;
}

export interface Metrics {
	readonly registry: Registry;
	/** A channel event finished (or was refused before its handler ran); `seconds` null when not timed. */
	event(name: string, outcome: string, seconds: number | null): void;
	/** A broadcast was written to `recipients` sockets of this process. */
	fanOut(recipients: number): void;
	/** A store write finished (`ok` false when it threw). */
	storeWrite(operation: string, seconds: number, ok: boolean): void;
	refusal(kind: string): void;
	rateLimited(kind: string): void;
	/** An HTTP answer went out. */
	httpResponse(status: number): void;
	/** The exposition text for `GET /metrics`. */
	render(): Promise<string>;
	readonly contentType: string;
}

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const FANOUT_BUCKETS = [0, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];
const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;

export function createMetrics(options: MetricsOptions): Metrics {
	if (!Array.isArray(options?.events)) throw new TypeError('createMetrics: options.events must list the event names');
	for (const name of ['sockets', 'channels'] as const) {
		if (typeof options[name] !== 'function') throw new TypeError(`createMetrics: options.${name} must be a function returning a count`);
	}
	const registry = new Registry();
	if (options.processMetrics !== false) collectDefaultMetrics({ register: registry });

	new Gauge({
		name: 'outbox_sockets',
		help: 'Open sockets (WebSocket and LongPoll) in this process',
		registers: [registry],
		collect() {
			this.set(options.sockets());
		}
	});
	new Gauge({
		name: 'outbox_channels_joined',
		help: 'Joined channels in this process',
		registers: [registry],
		collect() {
			this.set(options.channels());
		}
	});
	const events = new FastCounter('outbox_events_total', 'Channel events by name and outcome', registry);
	const replies = new FastHistogram('outbox_reply_duration_seconds', 'Time from a channel event reaching its handler to its reply', LATENCY_BUCKETS, registry);
	const fanOut = new FastHistogram('outbox_broadcast_fanout', 'Sockets of this process each broadcast was written to', FANOUT_BUCKETS, registry).cell();
	const commits = new FastHistogram('outbox_store_commit_duration_seconds', 'Store writes, from the call to its commit (SQLite group commits included)', LATENCY_BUCKETS, registry);
	const refusals = new FastCounter('outbox_refusals_total', 'Refused connects, joins and HTTP calls by kind', registry);
	const limited = new FastCounter('outbox_rate_limited_total', 'Calls refused by a rate limit, by kind', registry);
	const http = new FastCounter('outbox_http_responses_total', 'HTTP answers by status class', registry);

	// Every series made now, so the hot path is Map lookups and an add.
	const eventNames = [...new Set([...options.events, 'phx_join', 'unknown'])];
	const eventCells = new Map<string, Map<string, CounterCell>>(
		eventNames.map((event) => [event, new Map(EVENT_OUTCOMES.map((outcome) => [outcome as string, events.cell({ event, outcome })]))])
	);
	const replyCells = new Map<string, HistogramCell>(eventNames.map((event) => [event, replies.cell({ event })]));
	const commitCells = new Map(
		STORE_WRITES.map((operation) => [operation as string, { ok: commits.cell({ operation, result: 'ok' }), error: commits.cell({ operation, result: 'error' }) }])
	);
	const refusalCells = new Map<string, CounterCell>(REFUSAL_KINDS.map((kind) => [kind, refusals.cell({ kind })]));
	const limitedCells = new Map<string, CounterCell>(RATE_LIMIT_KINDS.map((kind) => [kind, limited.cell({ kind })]));
	const httpCells = STATUS_CLASSES.map((c) => http.cell({ class: c }));

	return {
		registry,
		contentType: registry.contentType,
		event(name, outcome, seconds) {
			const byOutcome = eventCells.get(name) ?? eventCells.get('unknown')!;
			(byOutcome.get(outcome) ?? byOutcome.get('error')!).value++;
			if (seconds !== null) (replyCells.get(name) ?? replyCells.get('unknown')!).observe(seconds);
		},
		fanOut(recipients) {
			fanOut.observe(recipients);
		},
		storeWrite(operation, seconds, ok) {
			const cells = commitCells.get(operation);
			if (cells) (ok ? cells.ok : cells.error).observe(seconds);
		},
		refusal(kind) {
			(refusalCells.get(kind) ?? refusalCells.get('other')!).value++;
		},
		rateLimited(kind) {
			(limitedCells.get(kind) ?? limitedCells.get('other')!).value++;
		},
		httpResponse(status) {
			httpCells[Math.min(4, Math.max(0, Math.floor(status / 100) - 1))]!.value++;
		},
		render: () => registry.metrics()
	};
}
