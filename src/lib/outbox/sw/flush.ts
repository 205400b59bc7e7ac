/**
 * The service worker's background flush: a second driver of the same core
 * as the page's send loop. It sends the signed-in user's queue over an HTTP
 * batch endpoint while no tab is open, using the kit's own planner
 * (`planFlush`: lanes, backoff, batching), reducer (`reduceQueue`: retry
 * policy, reason table), outcome mapping (`outcomesOf` + the classifier) and
 * storage port. Nothing here decides a retry or an order by itself.
 *
 * 1. Who: `sessionCheck()` (the app's, e.g. `GET /api/session` with the
 *    cookie) names the user; it must also be the user the app last recorded
 *    as signed in (`session-marker.ts`): a sign-out made offline leaves a
 *    valid cookie behind, and that user's queue must then stay unsent.
 * 2. The lock: the leader tab holds the Web Lock `outbox:<userId>` for its
 *    whole life. The worker asks for it with `ifAvailable` (a few times over
 *    ~2 s: a tab that has just closed may still hold it), so a tab and the
 *    worker never send at once. If a tab holds it, the worker sends nothing
 *    and, while items wait, fails so the browser tries again later.
 * 3. Send: the queue as stored (`sending` items come back `queued`: the tab
 *    that sent them is gone), planned as the page plans it; a batch goes as
 *    one POST; a type the endpoint does not take holds its lane (a tab will
 *    send it); an item waiting on backoff holds its lane too.
 *    An item carrying files not uploaded yet goes alone, after its files
 *    are uploaded (`uploadItemFiles`, shared with the page's send loop: the
 *    same derived upload ids, so nothing is stored twice), each upload
 *    recorded in storage as it lands; without `deps.uploader` it is left to a tab.
 * 4. Settle: each result through the reducer, written (with what the app's
 *    `onConfirmed` adds, e.g. a snapshot) in one storage write, then told to
 *    open tabs. Anything left to send makes the flush reject, so the browser
 *    retries the sync later.
 */
import { defaultClassify, type ErrorClassifier } from '../core/classify.js';
import type { BatchEntry, WireResult } from '../core/outcomes.js';
import { outcomesOf } from '../core/outcomes.js';
import { planFlush, type LaneBatch } from '../core/plan.js';
import type { QueueItem } from '../core/queue-item.js';
import { reduceQueue } from '../core/queue.js';
import { createQueueState, type QueueState } from '../core/queue-state.js';
import type { RetryOptions } from '../core/retry-policy.js';
import type { QueueStorage, TabMessage, Uploader } from '../ports.js';
import { needsUpload, wireUploads } from '../core/files.js';
import { uploadItemFiles } from '../runtime/upload-files.js';

/** The Background Sync tag the page registers and the worker answers. */
export const FLUSH_TAG = 'outbox-flush';

/** `type` of the message the worker posts to every window after a background flush. */
export const FLUSH_REPORT = 'outbox:sw-flush';

/** The lock (and BroadcastChannel) name the kit's tabs use for a user. */
export const lockName = (userId: string): string => `outbox:${userId}`;

/** Pauses between `ifAvailable` attempts at a busy lock (about 1.75 s in all). */
export const LOCK_RETRY_DELAYS_MS: readonly number[] = [250, 500, 1000];

/** What the app tells the flush about its server. */
export interface FlushOptions {
	/** The HTTP endpoint taking one topic's batch (`POST`, JSON) and answering `{results: [...]}` as a batch reply. */
	endpoint: string;
	/** The user the server sees (from the cookie), or null when signed out. A network failure rejects. */
	sessionCheck(): Promise<string | null>;
	/** The request body of one topic's batch (default `{topic, actions}`). */
	body?(topic: string, actions: BatchEntry[]): unknown;
	/** The event name of a queued type in a batch (default: the type itself). */
	eventOf?(type: string): string;
	/** The wire payload of a queued item (default: its payload, plus `uploads: [upload id, ...]` when it carries files). */
	toWire?(item: QueueItem): Record<string, unknown>;
	/** Types the endpoint takes (default: every type). Others hold their lane for a tab to send. */
	isBatchable?(type: string): boolean;
	/** Topics the endpoint takes (default: every topic). Other lanes are left to a tab. */
	acceptsTopic?(topic: string): boolean;
	/** Maps any error reply to a verdict (default: the Outbox reason table). Use the page's own. */
	classify?: ErrorClassifier;
	retry?: Partial<RetryOptions>;
	/** Largest batch (1–100, default 100). */
	maxBatch?: number;
	/**
	 * What confirmed items change beside the queue (e.g. a topic's stored
	 * snapshot): meta values to write in the same storage write. `get` reads
	 * a meta value of this user.
	 */
	onConfirmed?(topic: string, replies: unknown[], get: (key: string) => Promise<unknown>): Promise<Record<string, unknown> | null>;
}

/** The part of `LockManager` the flush uses. */
export interface LockPort {
	request<T>(name: string, options: { ifAvailable: true }, callback: (lock: unknown) => Promise<T> | T): Promise<T>;
}

/** The worker's environment, as ports (replaced in tests). */
export interface FlushDeps {
	fetch: typeof fetch;
	storage: QueueStorage;
	/** Uploads the files queued items carry (none: such items are left to a tab). */
	uploader?: Uploader;
	/** `navigator.locks`; null where Web Locks are missing (then `hasOpenTabs` decides). */
	locks: LockPort | null;
	/** The user the app last recorded as signed in (session-marker.ts); null: nobody. */
	signedInUser(): Promise<string | null>;
	/** Whether any window of the app is open (the fallback without Web Locks). */
	hasOpenTabs(): Promise<boolean>;
	now(): number;
	/** Tell open tabs what changed (the kit's `queue-changed` tab message). */
	broadcast?(userId: string, message: TabMessage): void;
	/** Pauses before asking for a busy lock again (default `LOCK_RETRY_DELAYS_MS`). */
	lockRetryDelaysMs?: readonly number[];
}

/** What a flush did. */
export interface FlushReport {
	status: 'signed-out' | 'tab-open' | 'empty' | 'flushed';
	userId?: string;
	/** Items confirmed (removed), failed for good, and left queued. */
	sent: string[];
	failed: string[];
	retry: string[];
	/** Requests made to the endpoint. */
	requests: number;
}

/** Posted to every window after a background flush: the report, or why it is to be retried. */
export interface FlushReportMessage {
	type: typeof FLUSH_REPORT;
	ok: boolean;
	report: FlushReport | null;
	error?: string;
}

/** The flush rejects with this when something is left to try later (the browser retries the sync). */
export class FlushIncompleteError extends Error {
	override readonly name = 'FlushIncompleteError';
	constructor(
		message: string,
		readonly report: FlushReport
	) {
		super(message);
	}
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Flush the signed-in user's queue once. Resolves with a report when nothing
 * is left that a later sync could send; rejects (`FlushIncompleteError`, or
 * a network error of the session check) when the browser should try again.
 *
 * @example
 * const report = await flushQueue({ endpoint: '/api/sync/events', sessionCheck }, deps);
 */
export async function flushQueue(options: FlushOptions, deps: FlushDeps): Promise<FlushReport> {
	if (!options || typeof options.endpoint !== 'string' || typeof options.sessionCheck !== 'function') {
		throw new TypeError('flushQueue({ endpoint, sessionCheck }, deps): endpoint (a URL) and sessionCheck (() => Promise<userId | null>) are required');
	}
	const report: FlushReport = { status: 'empty', sent: [], failed: [], retry: [], requests: 0 };
	const userId = await options.sessionCheck();
	if (userId === null) return { ...report, status: 'signed-out' };
	report.userId = userId;
	// Signed out in the app (maybe offline, so the cookie survived): not this user's turn.
	if ((await deps.signedInUser()) !== userId) return { ...report, status: 'signed-out' };

	const send = () => sendAll(options, deps, userId, report);
	if (deps.locks) {
		const locks = deps.locks;
		const delays = deps.lockRetryDelaysMs ?? LOCK_RETRY_DELAYS_MS;
		for (let attempt = 0; ; attempt++) {
			const got = await locks.request(lockName(userId), { ifAvailable: true }, async (lock) => (lock ? { report: await send() } : null));
			if (got) return got.report;
			const delay = delays[attempt];
			if (delay === undefined) return tabHoldsLock(deps, userId, report);
			await sleep(delay);
		}
	}
	if (await deps.hasOpenTabs()) return tabHoldsLock(deps, userId, report);
	return send();
}

async function tabHoldsLock(deps: FlushDeps, userId: string, report: FlushReport): Promise<FlushReport> {
	report.status = 'tab-open';
	const waiting = (await deps.storage.getAll(userId)).filter((item) => item.status !== 'failed').length;
	// The tab sends them; but it may be closing: let the browser ask again later.
	if (waiting > 0) throw new FlushIncompleteError(`a tab holds ${lockName(userId)} with ${waiting} item(s) waiting`, report);
	return report;
}

async function sendAll(options: FlushOptions, deps: FlushDeps, userId: string, report: FlushReport): Promise<FlushReport> {
	const state = createQueueState(options.retry ?? {});
	const stored = (await deps.storage.getAll(userId)).filter(isQueueItem);
	reduceQueue(state, { type: 'restored', items: stored });
	report.status = state.items.size === 0 ? 'empty' : 'flushed';
	const isBatchable = options.isBatchable ?? (() => true);
	const accepts = options.acceptsTopic ?? (() => true);
	/** Lanes that met a retryable failure: they wait for the browser's next sync, whatever the backoff says. */
	const held = new Set<string>();
	for (;;) {
		const batches = planFlush(state, deps.now(), { maxBatch: options.maxBatch ?? 100, isBatchable })
			.filter((b) => b.batchable && accepts(b.topic) && !held.has(b.topic))
			.map(cutAtUpload);
		if (batches.length === 0) break;
		for (let batch of batches) {
			const head = batch.items[0]!;
			if (needsUpload(head)) {
				const uploaded = await uploadFiles(deps, userId, state, head, report);
				if (uploaded === null) {
					held.add(batch.topic);
					continue;
				}
				batch = { ...batch, items: [uploaded] };
			}
			const result = await post(options, deps, batch);
			report.requests++;
			if (result === 'signed-out') {
				// The cookie went bad meanwhile: keep everything queued for the next sign-in.
				report.status = 'signed-out';
				return report;
			}
			await settleBatch(options, deps, userId, state, batch, result, report);
			if (batch.items.some((item) => state.items.get(item.id)?.status === 'queued')) held.add(batch.topic);
		}
	}
	// What a later sync could send: lanes this endpoint takes, headed by a type it takes (a retry, a backoff).
	// Lanes left to a tab (another topic, or an app type at the head) are no reason to wake the worker again.
	const left: string[] = [];
	for (const [topic, lane] of state.lanes) {
		const head = state.items.get(lane.at(0) ?? '');
		if (head && accepts(topic) && isBatchable(head.type)) left.push(...lane);
	}
	report.retry = left;
	if (left.length > 0) throw new FlushIncompleteError(`${left.length} item(s) left to send later`, report);
	return report;
}

/** The batch up to the first item with files to upload (that item alone when it heads it). */
function cutAtUpload(batch: LaneBatch): LaneBatch {
	const at = batch.items.findIndex(needsUpload);
	if (at < 0) return batch;
	return { ...batch, items: at === 0 ? [batch.items[0]!] : batch.items.slice(0, at) };
}

/**
 * Upload an item's files, recording each upload in storage as it lands. The
 * item as it is now when all are up; null when one failed (the item is
 * settled through the reducer: failed for good, or queued for later).
 */
async function uploadFiles(deps: FlushDeps, userId: string, state: QueueState, item: QueueItem, report: FlushReport): Promise<QueueItem | null> {
	if (!deps.uploader) return null;
	const outcome = await uploadItemFiles(item, deps.uploader, {
		alive: () => true,
		uploaded: async (index, upload) => {
			reduceQueue(state, { type: 'fileUploaded', id: item.id, index, upload });
			const current = state.items.get(item.id);
			if (current) {
				await deps.storage.write(userId, { put: [current] });
				deps.broadcast?.(userId, { kind: 'queue-changed', namespace: userId, items: [current], removedIds: [] });
			}
		}
	});
	if (outcome.kind === 'done') return state.items.get(item.id) ?? null;
	if (outcome.kind === 'failed') {
		const now = deps.now();
		reduceQueue(state, { type: 'sendStarted', ids: [item.id], now });
		reduceQueue(state, { type: 'failed', id: item.id, failure: outcome.failure, now });
		const current = state.items.get(item.id);
		if (current) {
			if (current.status === 'failed') report.failed.push(item.id);
			await deps.storage.write(userId, { put: [current] });
			deps.broadcast?.(userId, { kind: 'queue-changed', namespace: userId, items: [current], removedIds: [] });
		}
	}
	return null;
}

/** An item's wire payload without an app mapping: its payload, plus the ids of its uploads. */
function defaultWire(item: QueueItem): Record<string, unknown> {
	const uploads = item.files && item.files.length > 0 ? wireUploads(item) : [];
	return uploads.length > 0 ? { ...item.payload, uploads: uploads.map((upload) => upload.id) } : { ...item.payload };
}

/** POST one batch; the HTTP answer as a wire result (a 401: signed out). */
async function post(options: FlushOptions, deps: FlushDeps, batch: LaneBatch): Promise<WireResult | 'signed-out'> {
	const actions = batch.items.map(
		(item): BatchEntry => ({ client_id: item.id, type: options.eventOf?.(item.type) ?? item.type, payload: options.toWire?.(item) ?? defaultWire(item) })
	);
	const body = options.body ? options.body(batch.topic, actions) : { topic: batch.topic, actions };
	let response: Response;
	try {
		response = await deps.fetch(options.endpoint, {
			method: 'POST',
			credentials: 'same-origin',
			cache: 'no-store',
			headers: { 'content-type': 'application/json', accept: 'application/json' },
			body: JSON.stringify(body)
		});
	} catch {
		return { status: 'closed' };
	}
	const json: unknown = await response.json().catch(() => null);
	if (response.status === 401) return 'signed-out';
	if (response.ok) return { status: 'ok', response: json };
	return { status: 'error', response: httpErrorReply(response.status, json) };
}

/** A refused request's reply: its own `{reason}` body, else a reason from the status (429 and 5xx: passing faults). */
export function httpErrorReply(status: number, body: unknown): unknown {
	if (body !== null && typeof body === 'object' && typeof (body as { reason?: unknown }).reason === 'string') return body;
	const reason = status === 429 ? 'rate_limited' : status >= 500 || status === 408 ? 'internal' : 'rejected';
	return { reason, message: `the endpoint answered HTTP ${status}` };
}

async function settleBatch(
	options: FlushOptions,
	deps: FlushDeps,
	userId: string,
	state: QueueState,
	batch: LaneBatch,
	result: WireResult,
	report: FlushReport
): Promise<void> {
	const now = deps.now();
	const ids = batch.items.map((item) => item.id);
	reduceQueue(state, { type: 'sendStarted', ids, now });
	const outcomes = outcomesOf(batch.items, result, true, options.classify ?? defaultClassify);
	const replies: unknown[] = [];
	batch.items.forEach((item, i) => {
		const outcome = outcomes[i]!;
		if (outcome.kind === 'ok') {
			replies.push(outcome.response);
			report.sent.push(item.id);
			reduceQueue(state, { type: 'succeeded', id: item.id, response: outcome.response });
		} else {
			reduceQueue(state, { type: 'failed', id: item.id, failure: outcome, now });
			if (state.items.get(item.id)?.status === 'failed') report.failed.push(item.id);
		}
	});
	const put = ids.map((id) => state.items.get(id)).filter((item): item is QueueItem => item !== undefined);
	const remove = ids.filter((id) => !state.items.has(id));
	const meta = replies.length > 0 && options.onConfirmed ? await options.onConfirmed(batch.topic, replies, (key) => deps.storage.getMeta(userId, key)) : null;
	await deps.storage.write(userId, { put, remove, ...(meta ? { meta } : {}) });
	deps.broadcast?.(userId, { kind: 'queue-changed', namespace: userId, items: put, removedIds: remove });
}

function isQueueItem(value: unknown): value is QueueItem {
	const v = value as Partial<QueueItem> | null;
	return (
		typeof v === 'object' &&
		v !== null &&
		typeof v.id === 'string' &&
		typeof v.type === 'string' &&
		typeof v.topic === 'string' &&
		typeof v.createdAt === 'number' &&
		typeof v.payload === 'object' &&
		v.payload !== null
	);
}
