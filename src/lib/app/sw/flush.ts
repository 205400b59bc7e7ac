/**
 * The service worker's half of Background Sync: flush the signed-in user's
 * queue over `POST /api/sync/events` while no tab is open.
 *
 * 1. Who: `GET /api/session` with the session cookie. 401 → nothing to do.
 *    The cookie's user must also be the one the app last recorded as signed
 *    in (session-marker.ts): a sign-out made offline leaves a valid cookie
 *    behind, and that user's queue must then stay unsent.
 * 2. The lock: the leader tab holds the Web Lock `outbox:<userId>` for its
 *    whole life (tab-coordinator.ts). The worker asks for the same lock with
 *    `ifAvailable` (a few times over ~2 s: a tab that has just closed may
 *    still hold it), so a tab and the worker never send at the same time; a
 *    tab that opens meanwhile waits for the lock and, once leader, re-reads
 *    the store (`takeOver`). If a tab holds the lock, the worker sends
 *    nothing; when that user still has items waiting it fails the sync so
 *    the browser tries again later (the tab may be closing).
 * 3. What: the user's items straight from IndexedDB (storage-layout.ts:
 *    db `outbox`, store `queue`, keys `<ns>/q/<id>`), one lane per topic in
 *    creation order (`compareItems`), `failed` items skipped (a permanent
 *    failure lets its lane go on), `sending` ones treated as queued (the tab
 *    that was sending them is gone: we hold its lock).
 * 4. Send: batches of ≤ 100 consecutive chat actions per room; a lane stops at
 *    an action type the server's batch does not take (an app's own type: a
 *    tab will send it) and at the first retryable failure (order).
 * 5. Settle: every result goes through the kit's own reducer rule
 *    (`settle` in core/reconcile.ts), written in ONE transaction per batch:
 *    ok → deleted; invalid / forbidden / conflict / unauthorized → `failed`
 *    with `lastError`; rate_limited / internal → stays `queued`, charged
 *    against `maxRetries`, with `lastError` and `nextAttemptAt`. A network
 *    failure leaves the batch untouched. Any retryable outcome makes the
 *    flush reject at the end, so the browser retries the sync later.
 *    The messages the server confirmed go, in the same transaction, into the
 *    room's stored snapshot (the one a reload while offline shows), its
 *    cursor left as it was: the next visit shows them sent even offline, and
 *    its sync still fetches whatever else changed since.
 *
 * The algorithm runs on small ports (`FlushDeps`) so it is unit-tested in
 * Node; `idbQueueAccess` is the real IndexedDB port (Chromium-tested).
 */
import { ACTION_TYPES, LIMITS, roomSlugFromTopic } from '../../protocol/events.js';
import { isReason, PERMANENT_REASONS, type Reason } from '../../protocol/reasons.js';
import { compareItems, type Outcome, type QueueItem } from '../../outbox/core/queue-item.js';
import { settle } from '../../outbox/core/reconcile.js';
import { DEFAULT_DB_NAME, DEFAULT_SNAPSHOT_LIMIT, itemKey, itemRange, metaKey, QUEUE_STORE, snapshotKey } from '../../outbox/adapters/storage-layout.js';
import { applyServerMessages, createConfirmed } from '../../outbox/core/confirmed.js';
import type { Message } from '../../protocol/message.js';
import type { TabMessage } from '../../outbox/ports.js';

/** The Background Sync tag the page registers and the worker answers. */
export const FLUSH_TAG = 'outbox-flush';

/** `type` of the message the worker posts to every window after a background flush. */
export const FLUSH_REPORT = 'outbox:sw-flush';

/** Posted to every window after a background flush: the report, or why it is to be retried. */
export interface FlushReportMessage {
	type: typeof FLUSH_REPORT;
	ok: boolean;
	report: FlushReport | null;
	error?: string;
}

/** The lock (and BroadcastChannel) name the kit's tabs use for a user. */
export function lockName(userId: string): string {
	return `outbox:${userId}`;
}

/** Messages the server confirmed in one room, for its stored snapshot. */
export interface ConfirmedInRoom {
	topic: string;
	messages: readonly Message[];
}

/** Read and write one user's queue items (one transaction per call). */
export interface QueueAccess {
	items(userId: string): Promise<QueueItem[]>;
	/**
	 * Put `puts` and delete `deletes` (item ids) in one transaction, and merge
	 * `confirmed` into that room's snapshot when there is one.
	 */
	commit(userId: string, puts: readonly QueueItem[], deletes: readonly string[], confirmed?: ConfirmedInRoom): Promise<void>;
	close(): void;
}

/**
 * A stored room snapshot with `messages` merged in (newest version per id,
 * `seq` order, the last `max(kept, DEFAULT_SNAPSHOT_LIMIT)`), cursor unchanged; null
 * when `stored` is not a snapshot (none yet: the room's first visit loads
 * history anyway).
 */
export function mergeIntoSnapshot(stored: unknown, messages: readonly Message[]): { cursor: string; messages: Message[] } | null {
	const snapshot = stored as { cursor?: unknown; messages?: unknown } | null;
	if (typeof snapshot !== 'object' || snapshot === null) return null;
	if (typeof snapshot.cursor !== 'string' || !Array.isArray(snapshot.messages)) return null;
	const held = snapshot.messages.filter(isMessage);
	const merged = createConfirmed(held);
	if (applyServerMessages(merged, messages.filter(isMessage)).length === 0) return { cursor: snapshot.cursor, messages: held };
	return { cursor: snapshot.cursor, messages: merged.order.slice(-Math.max(held.length, DEFAULT_SNAPSHOT_LIMIT)) };
}

/** The part of `LockManager` the flush uses. */
export interface LockPort {
	request<T>(name: string, options: { ifAvailable: true }, callback: (lock: unknown) => Promise<T> | T): Promise<T>;
}

export interface FlushDeps {
	fetch: typeof fetch;
	/** `navigator.locks`; null where Web Locks are missing (then `hasOpenTabs` decides). */
	locks: LockPort | null;
	/** The user the app last recorded as signed in (session-marker.ts); null: nobody. */
	signedInUser(): Promise<string | null>;
	/** Opens the queue; null when there is no queue database (nothing was ever queued). */
	openQueue(): Promise<QueueAccess | null>;
	/** Whether any window of the app is open (the fallback without Web Locks). */
	hasOpenTabs(): Promise<boolean>;
	now(): number;
	/** Tell open tabs what changed (the kit's `queue-changed` tab message); optional. */
	broadcast?(userId: string, message: TabMessage): void;
	/**
	 * Pauses before asking for a busy lock again (default `LOCK_RETRY_DELAYS_MS`):
	 * a tab that just closed may still hold it for a moment; a live tab holds it for good.
	 */
	lockRetryDelaysMs?: readonly number[];
	/** API origin prefix (default: same origin, relative URLs). */
	baseUrl?: string;
}

/** What a flush did. */
export interface FlushReport {
	status: 'signed-out' | 'tab-open' | 'empty' | 'flushed';
	userId?: string;
	/** Items confirmed (deleted), failed for good, and left queued. */
	sent: string[];
	failed: string[];
	retry: string[];
	/** Requests made to `POST /api/sync/events`. */
	requests: number;
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

/** Pauses between `ifAvailable` attempts at a busy lock (about 1.75 s in all). */
export const LOCK_RETRY_DELAYS_MS: readonly number[] = [250, 500, 1000];

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const CHAT_TYPES: ReadonlySet<string> = new Set(ACTION_TYPES);
const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json' };

/**
 * Flush the signed-in user's queue once. Resolves with a report when nothing
 * is left that a later sync could send; rejects (`FlushIncompleteError`, or a
 * network `TypeError`) when the browser should try again.
 *
 * @example
 * self.addEventListener('sync', (e) => e.tag === FLUSH_TAG && e.waitUntil(flushOutbox(serviceWorkerFlushDeps(self))));
 */
export async function flushOutbox(deps: FlushDeps): Promise<FlushReport> {
	const base = deps.baseUrl ?? '';
	const report: FlushReport = { status: 'empty', sent: [], failed: [], retry: [], requests: 0 };

	// 1. Who is signed in (a network error rejects: try again later).
	const session = await deps.fetch(`${base}/api/session`, {
		credentials: 'same-origin',
		cache: 'no-store',
		headers: { accept: 'application/json' }
	});
	if (session.status === 401) return { ...report, status: 'signed-out' };
	if (!session.ok) throw new FlushIncompleteError(`GET /api/session answered ${session.status}`, report);
	const userId = ((await session.json()) as { user?: { id?: unknown } }).user?.id;
	if (typeof userId !== 'string' || userId === '') throw new FlushIncompleteError('GET /api/session gave no user id', report);
	report.userId = userId;
	// Signed out in the app (maybe offline, so the cookie survived): not this user's turn.
	if ((await deps.signedInUser()) !== userId) return { ...report, status: 'signed-out' };

	const queue = await deps.openQueue();
	if (!queue) return report;
	try {
		// 2. The lock, else (no Web Locks) only while no window is open.
		if (deps.locks) {
			const locks = deps.locks;
			const delays = deps.lockRetryDelaysMs ?? LOCK_RETRY_DELAYS_MS;
			for (let attempt = 0; ; attempt++) {
				const got = await locks.request(lockName(userId), { ifAvailable: true }, async (lock) =>
					lock ? { report: await sendAll(deps, queue, userId, report) } : null
				);
				if (got) return got.report;
				const delay = delays[attempt];
				if (delay === undefined) return await tabHoldsLock(queue, userId, report);
				await sleep(delay);
			}
		}
		if (await deps.hasOpenTabs()) return await tabHoldsLock(queue, userId, report);
		return await sendAll(deps, queue, userId, report);
	} finally {
		queue.close();
	}
}

async function tabHoldsLock(queue: QueueAccess, userId: string, report: FlushReport): Promise<FlushReport> {
	report.status = 'tab-open';
	const waiting = (await queue.items(userId)).filter((item) => item.status !== 'failed').length;
	// The tab sends them; but it may be closing: let the browser ask again later.
	if (waiting > 0) throw new FlushIncompleteError(`a tab holds ${lockName(userId)} with ${waiting} item(s) waiting`, report);
	return report;
}

/** The lanes: per topic, creation order, failed items left out. */
export function lanesOf(items: readonly QueueItem[]): Map<string, QueueItem[]> {
	const lanes = new Map<string, QueueItem[]>();
	for (const item of [...items].sort(compareItems)) {
		if (item.status === 'failed') continue;
		const lane = lanes.get(item.topic) ?? [];
		lane.push(item.status === 'sending' ? { ...item, status: 'queued' } : item);
		lanes.set(item.topic, lane);
	}
	return lanes;
}

/** The next batch of a lane: consecutive chat actions from its head, at most `max`. */
export function nextBatch(lane: readonly QueueItem[], max: number = LIMITS.batchMaxActions): QueueItem[] {
	const batch: QueueItem[] = [];
	for (const item of lane) {
		if (batch.length >= max || !CHAT_TYPES.has(item.type)) break;
		batch.push(item);
	}
	return batch;
}

async function sendAll(deps: FlushDeps, queue: QueueAccess, userId: string, report: FlushReport): Promise<FlushReport> {
	const lanes = lanesOf(await queue.items(userId));
	report.status = lanes.size === 0 ? 'empty' : 'flushed';
	let incomplete = false;
	let signedOut = false;
	for (const [topic, lane] of lanes) {
		if (signedOut) break;
		const room = roomSlugFromTopic(topic);
		if (room === null) continue; // not a room lane: only a tab's engine knows it
		let rest = lane;
		while (rest.length > 0) {
			const batch = nextBatch(rest);
			if (batch.length === 0) break; // an app-defined action heads the lane: a tab sends it
			const answer = await post(deps, room, batch);
			report.requests++;
			if (answer.kind === 'network') {
				incomplete = true;
				report.retry.push(...batch.map((item) => item.id));
				break;
			}
			if (answer.kind === 'signed-out') {
				// The cookie went bad meanwhile: keep everything queued for the next sign-in.
				signedOut = true;
				report.status = 'signed-out';
				break;
			}
			const { held } = await apply(deps, queue, userId, batch, answer.outcomes, report);
			if (held) {
				incomplete = true;
				break; // a retryable failure holds the lane
			}
			rest = rest.slice(batch.length);
		}
	}
	if (incomplete) throw new FlushIncompleteError(`${report.retry.length} item(s) left to retry`, report);
	return report;
}

type Answer = { kind: 'outcomes'; outcomes: Outcome[] } | { kind: 'network' } | { kind: 'signed-out' };

async function post(deps: FlushDeps, room: string, batch: readonly QueueItem[]): Promise<Answer> {
	const body = {
		room,
		actions: batch.map((item) => ({ client_id: item.id, type: item.type, payload: { ...item.payload, client_id: item.id } }))
	};
	let response: Response;
	let json: unknown;
	try {
		response = await deps.fetch(`${deps.baseUrl ?? ''}/api/sync/events`, {
			method: 'POST',
			credentials: 'same-origin',
			cache: 'no-store',
			headers: JSON_HEADERS,
			body: JSON.stringify(body)
		});
		json = await response.json().catch(() => null);
	} catch {
		return { kind: 'network' };
	}
	if (response.status === 401) return { kind: 'signed-out' };
	if (response.ok) return { kind: 'outcomes', outcomes: batchOutcomes(batch, json) };
	// The whole request was refused: every action gets that verdict (as a refused `send_batch`).
	const reason = (json as { reason?: unknown } | null)?.reason;
	const message = (json as { message?: unknown } | null)?.message;
	let failure: Outcome;
	if (isReason(reason) && (PERMANENT_REASONS.has(reason) || response.status === 429 || response.status >= 500)) {
		failure = errorOutcome(reason, typeof message === 'string' ? message : undefined);
	} else {
		const retryable: Reason = response.status === 429 ? 'rate_limited' : 'internal';
		failure = errorOutcome(retryable, `POST /api/sync/events answered ${response.status}`);
	}
	return { kind: 'outcomes', outcomes: batch.map(() => failure) };
}

function errorOutcome(reason: Reason, message: string | undefined): Outcome {
	return message === undefined ? { kind: 'error', reason } : { kind: 'error', reason, message };
}

/** `{results: [{client_id, status, ...}]}` → one outcome per item (as the kit maps a `send_batch` reply). */
export function batchOutcomes(batch: readonly QueueItem[], response: unknown): Outcome[] {
	const results = (response as { results?: unknown } | null)?.results;
	const byId = new Map<string, Record<string, unknown>>();
	if (Array.isArray(results)) {
		for (const entry of results) {
			if (entry && typeof entry === 'object' && typeof (entry as { client_id?: unknown }).client_id === 'string') {
				byId.set((entry as { client_id: string }).client_id, entry as Record<string, unknown>);
			}
		}
	}
	return batch.map((item): Outcome => {
		const entry = byId.get(item.id);
		if (!entry) return errorOutcome('internal', 'the reply has no result for this action');
		const { client_id: _id, status, ...rest } = entry;
		if (status === 'ok') return { kind: 'ok', response: rest };
		if (!isReason(rest.reason)) return errorOutcome('internal', `unknown reason ${String(rest.reason)}`);
		return errorOutcome(rest.reason, typeof rest.message === 'string' ? rest.message : undefined);
	});
}

async function apply(
	deps: FlushDeps,
	queue: QueueAccess,
	userId: string,
	batch: readonly QueueItem[],
	outcomes: readonly Outcome[],
	report: FlushReport
): Promise<{ held: boolean }> {
	const now = deps.now();
	const puts: QueueItem[] = [];
	const deletes: string[] = [];
	const messages: Message[] = [];
	let held = false;
	batch.forEach((item, i) => {
		const outcome = outcomes[i] as Outcome;
		const settlement = settle(item, outcome, now);
		if (settlement.item === null) {
			deletes.push(item.id);
			report.sent.push(item.id);
			const message = outcome.kind === 'ok' ? (outcome.response as { message?: unknown }).message : undefined;
			if (isMessage(message)) messages.push(message);
			return;
		}
		puts.push(settlement.item);
		if (settlement.item.status === 'failed') {
			report.failed.push(item.id);
		} else {
			held = true;
			report.retry.push(item.id);
		}
	});
	await queue.commit(userId, puts, deletes, messages.length ? { topic: batch[0]!.topic, messages } : undefined);
	deps.broadcast?.(userId, { kind: 'queue-changed', namespace: userId, items: puts, removedIds: deletes });
	return { held };
}

/**
 * The real queue port: raw IndexedDB on the database localforage created.
 * Opened without a version; if the database does not exist it is not created
 * (the upgrade is aborted): no tab ever queued anything here.
 */
export function idbQueueAccess(factory: IDBFactory, dbName: string = DEFAULT_DB_NAME): Promise<QueueAccess | null> {
	return new Promise((resolve, reject) => {
		const request = factory.open(dbName);
		let creating = false;
		request.onupgradeneeded = () => {
			creating = true;
			request.transaction?.abort();
		};
		request.onerror = (event) => {
			if (!creating) return reject(request.error);
			event.preventDefault();
			resolve(null);
		};
		request.onsuccess = () => {
			const db = request.result;
			if (!db.objectStoreNames.contains(QUEUE_STORE)) {
				db.close();
				return resolve(null);
			}
			// Never hold up a tab's upgrade of the database.
			db.onversionchange = () => db.close();
			resolve(wrap(db));
		};
	});
}

function wrap(db: IDBDatabase): QueueAccess {
	const done = (tx: IDBTransaction) =>
		new Promise<void>((resolve, reject) => {
			tx.oncomplete = () => resolve();
			tx.onabort = () => reject(tx.error ?? new DOMException('transaction aborted', 'AbortError'));
		});
	return {
		async items(userId) {
			const { lower, upper } = itemRange(userId);
			const tx = db.transaction(QUEUE_STORE, 'readonly');
			const request = tx.objectStore(QUEUE_STORE).getAll(IDBKeyRange.bound(lower, upper));
			await done(tx);
			return (request.result as unknown[]).filter(isQueueItem);
		},
		async commit(userId, puts, deletes, confirmed) {
			if (puts.length === 0 && deletes.length === 0) return;
			const tx = db.transaction(QUEUE_STORE, 'readwrite', { durability: 'strict' });
			const store = tx.objectStore(QUEUE_STORE);
			for (const item of puts) store.put(item, itemKey(userId, item.id));
			for (const id of deletes) store.delete(itemKey(userId, id));
			if (confirmed) {
				const key = metaKey(userId, snapshotKey(confirmed.topic));
				const read = store.get(key);
				read.onsuccess = () => {
					const next = mergeIntoSnapshot(read.result, confirmed.messages);
					if (next) store.put(next, key);
				};
			}
			await done(tx);
		},
		close: () => db.close()
	};
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

/**
 * `messageSchema`'s shape, checked by hand: the worker bundles no zod (it
 * would triple its size), and a snapshot the kit later loads is parsed with
 * the schema anyway.
 */
function isMessage(value: unknown): value is Message {
	const m = value as Partial<Message> | null;
	return (
		typeof m === 'object' &&
		m !== null &&
		typeof m.id === 'string' &&
		typeof m.client_id === 'string' &&
		typeof m.room === 'string' &&
		typeof m.author === 'object' &&
		m.author !== null &&
		typeof m.author.id === 'string' &&
		typeof m.body === 'string' &&
		Number.isSafeInteger(m.seq) &&
		Number.isSafeInteger(m.version) &&
		typeof m.deleted === 'boolean' &&
		typeof m.inserted_at === 'string' &&
		typeof m.updated_at === 'string'
	);
}
