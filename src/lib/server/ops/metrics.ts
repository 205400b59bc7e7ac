/**
 * Prometheus metrics (prom-client), one registry per server. The hot paths
 * (every channel event, every broadcast, every store write) only bump a
 * counter or a histogram child resolved once at start: no label objects, no
 * strings built per call, and every label takes a value from a fixed list,
 * so the number of series cannot grow with traffic.
 *
 * ```ts
 * const metrics = createMetrics({ events: ['send_message'], sockets: () => 3, channels: () => 5 });
 * metrics.event('send_message', 'ok', 0.002);
 * res.end(await metrics.render());
 * ```
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { REASONS } from '../../protocol/reasons.js';

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
	/** A channel event finished (or was refused before its handler ran). */
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
	const events = new Counter({ name: 'outbox_events_total', help: 'Channel events by name and outcome', labelNames: ['event', 'outcome'], registers: [registry] });
	const replies = new Histogram({
		name: 'outbox_reply_duration_seconds',
		help: 'Time from a channel event reaching its handler to its reply',
		labelNames: ['event'],
		buckets: LATENCY_BUCKETS,
		registers: [registry]
	});
	const fanOut = new Histogram({
		name: 'outbox_broadcast_fanout',
		help: 'Sockets of this process each broadcast was written to',
		buckets: FANOUT_BUCKETS,
		registers: [registry]
	});
	const commits = new Histogram({
		name: 'outbox_store_commit_duration_seconds',
		help: 'Store writes, from the call to its commit (SQLite group commits included)',
		labelNames: ['operation', 'result'],
		buckets: LATENCY_BUCKETS,
		registers: [registry]
	});
	const refusals = new Counter({ name: 'outbox_refusals_total', help: 'Refused connects, joins and HTTP calls by kind', labelNames: ['kind'], registers: [registry] });
	const limited = new Counter({ name: 'outbox_rate_limited_total', help: 'Calls refused by a rate limit, by kind', labelNames: ['kind'], registers: [registry] });
	const http = new Counter({ name: 'outbox_http_responses_total', help: 'HTTP answers by status class', labelNames: ['class'], registers: [registry] });

	// Every child resolved now, so the hot path is two Map lookups and an add.
	const eventNames = [...new Set([...options.events, 'phx_join', 'unknown'])];
	const eventChildren = new Map(
		eventNames.map((name) => [name, new Map(EVENT_OUTCOMES.map((outcome) => [outcome as string, events.labels(name, outcome)]))])
	);
	const replyChildren = new Map(eventNames.map((name) => [name, replies.labels(name)]));
	const commitChildren = new Map(
		STORE_WRITES.map((op) => [op as string, { ok: commits.labels(op, 'ok'), error: commits.labels(op, 'error') }])
	);
	const refusalChildren = new Map(REFUSAL_KINDS.map((kind) => [kind as string, refusals.labels(kind)]));
	const limitedChildren = new Map(RATE_LIMIT_KINDS.map((kind) => [kind as string, limited.labels(kind)]));
	const httpChildren = STATUS_CLASSES.map((c) => http.labels(c));

	return {
		registry,
		contentType: registry.contentType,
		event(name, outcome, seconds) {
			const byOutcome = eventChildren.get(name) ?? eventChildren.get('unknown')!;
			(byOutcome.get(outcome) ?? byOutcome.get('error')!).inc();
			if (seconds !== null) (replyChildren.get(name) ?? replyChildren.get('unknown')!).observe(seconds);
		},
		fanOut(recipients) {
			fanOut.observe(recipients);
		},
		storeWrite(operation, seconds, ok) {
			const child = commitChildren.get(operation);
			if (child) (ok ? child.ok : child.error).observe(seconds);
		},
		refusal(kind) {
			(refusalChildren.get(kind) ?? refusalChildren.get('other')!).inc();
		},
		rateLimited(kind) {
			(limitedChildren.get(kind) ?? limitedChildren.get('other')!).inc();
		},
		httpResponse(status) {
			httpChildren[Math.min(4, Math.max(0, Math.floor(status / 100) - 1))]!.inc();
		},
		render: () => registry.metrics()
	};
}
