import { expect, test } from 'vitest';
import { createMetrics } from '../../../src/lib/server/ops/metrics.js';

function metricsFor() {
	return createMetrics({ events: ['send_message', 'sync'], sockets: () => 7, channels: () => 11, processMetrics: false });
}

test('options are checked at construction', () => {
	expect(() => createMetrics({} as never)).toThrow(/options.events/);
	expect(() => createMetrics({ events: [], sockets: 3, channels: () => 1 } as never)).toThrow(/options.sockets/);
});

test('gauges are read at scrape time; events, latencies, fan-out, commits, refusals and limits are counted', async () => {
	const metrics = metricsFor();
	metrics.event('send_message', 'ok', 0.003);
	metrics.event('send_message', 'ok', 0.004);
	metrics.event('send_message', 'conflict', 0.002);
	metrics.event('sync', 'rate_limited', null);
	metrics.fanOut(3);
	metrics.storeWrite('applyActions', 0.001, true);
	metrics.refusal('connect_token');
	metrics.rateLimited('sign_in');
	metrics.httpResponse(503);
	const text = await metrics.render();
	expect(text).toContain('outbox_sockets 7');
	expect(text).toContain('outbox_channels_joined 11');
	expect(text).toContain('outbox_events_total{event="send_message",outcome="ok"} 2');
	expect(text).toContain('outbox_events_total{event="send_message",outcome="conflict"} 1');
	expect(text).toContain('outbox_events_total{event="sync",outcome="rate_limited"} 1');
	expect(text).toContain('outbox_reply_duration_seconds_count{event="send_message"} 3');
	expect(text).toContain('outbox_reply_duration_seconds_bucket{le="0.005",event="send_message"} 3');
	expect(text).toContain('outbox_broadcast_fanout_sum 3');
	expect(text).toContain('outbox_store_commit_duration_seconds_count{operation="applyActions",result="ok"} 1');
	expect(text).toContain('outbox_refusals_total{kind="connect_token"} 1');
	expect(text).toContain('outbox_rate_limited_total{kind="sign_in"} 1');
	expect(text).toContain('outbox_http_responses_total{class="5xx"} 1');
});

test('labels come from fixed lists: made-up event names, outcomes and kinds cannot add series', async () => {
	const metrics = metricsFor();
	const abuse = (i: number) => {
		metrics.event(`evil_${i}`, `reason_${i}`, 0.001);
		metrics.refusal(`kind_${i}`);
		metrics.rateLimited(`limit_${i}`);
		metrics.storeWrite(`op_${i}`, 0.001, true);
	};
	abuse(0);
	const before = (await metrics.render()).split('\n').length;
	for (let i = 1; i < 500; i++) {
		abuse(i);
	}
	const text = await metrics.render();
	expect(text.split('\n').length).toBe(before);
	expect(text).toContain('outbox_events_total{event="unknown",outcome="error"} 500');
	expect(text).toContain('outbox_refusals_total{kind="other"} 500');
	expect(text).toContain('outbox_rate_limited_total{kind="other"} 500');
	expect(text).not.toContain('evil_');
});
