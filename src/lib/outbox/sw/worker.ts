/**
 * The worker's glue: answer the `outbox-flush` Background Sync with
 * `flushQueue` on the browser's own ports (the kit's localforage storage,
 * Web Locks, the kit's BroadcastChannel, the page's signed-in marker), and
 * tell every window how it went. Call it once from your `service-worker.ts`,
 * as Workbox's `BackgroundSyncPlugin` is set up.
 *
 * @example
 * // src/service-worker.ts
 * import { handleBackgroundFlush } from 'outbox/sw';
 * handleBackgroundFlush(self, {
 *   endpoint: '/api/sync/events',
 *   sessionCheck: async () => (await (await fetch('/api/me')).json()).user?.id ?? null
 * });
 */
import { createHttpUploader } from '../adapters/http-uploader.js';
import { createLocalforageStorage, type LocalforageStorageOptions } from '../adapters/localforage-storage.js';
import {
	FLUSH_REPORT,
	FLUSH_TAG,
	FlushIncompleteError,
	flushQueue,
	lockName,
	type FlushDeps,
	type FlushOptions,
	type FlushReportMessage,
	type LockPort
} from './flush.js';
import { readSignedInUser } from './session-marker.js';

/** The Background Sync event (not in TypeScript's DOM lib). */
interface SyncEvent extends Event {
	readonly tag: string;
	waitUntil(promise: Promise<unknown>): void;
}

/**
 * What the glue uses of `ServiceWorkerGlobalScope` (typed here so the kit's
 * types do not pull the `webworker` lib into an app's DOM build).
 */
export interface ServiceWorkerScope {
	readonly navigator: { readonly locks?: LockPort };
	readonly caches: CacheStorage;
	readonly clients: { matchAll(options: { type: 'window' }): Promise<ReadonlyArray<{ postMessage(message: unknown): void }>> };
	fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
	addEventListener(type: 'sync', listener: (event: Event) => void): void;
	removeEventListener(type: 'sync', listener: (event: Event) => void): void;
}

export interface BackgroundFlushOptions extends FlushOptions {
	/** The page's storage options (the database name), if it set any. */
	storage?: LocalforageStorageOptions;
	/** Where queued files are uploaded (default `/api/uploads`; the session cookie authenticates). */
	uploadUrl?: string;
}

/** Listen for the flush sync; returns the function that stops listening. */
export function handleBackgroundFlush(scope: ServiceWorkerScope, options: BackgroundFlushOptions): () => void {
	const { storage: storageOptions, uploadUrl, ...flush } = options;
	const deps = (): FlushDeps => {
		const locks = scope.navigator.locks;
		return {
			fetch: (input, init) => scope.fetch(input, init),
			storage: createLocalforageStorage(storageOptions),
			uploader: createHttpUploader({ via: 'fetch', fetch: (input, init) => scope.fetch(input, init), ...(uploadUrl ? { url: uploadUrl } : {}) }),
			locks: typeof locks?.request === 'function' ? locks : null,
			signedInUser: () => readSignedInUser(scope.caches),
			hasOpenTabs: async () => (await scope.clients.matchAll({ type: 'window' })).length > 0,
			now: () => Date.now(),
			broadcast(userId, message) {
				if (typeof BroadcastChannel !== 'function') return;
				const channel = new BroadcastChannel(lockName(userId));
				channel.postMessage(message);
				channel.close();
			}
		};
	};
	const tell = async (message: FlushReportMessage) => {
		for (const client of await scope.clients.matchAll({ type: 'window' })) client.postMessage(message);
	};
	const onSync = (event: Event) => {
		const sync = event as SyncEvent;
		if (sync.tag !== FLUSH_TAG) return;
		sync.waitUntil(
			flushQueue(flush, deps()).then(
				(report) => tell({ type: FLUSH_REPORT, ok: true, report }),
				async (error: unknown) => {
					const report = error instanceof FlushIncompleteError ? error.report : null;
					await tell({ type: FLUSH_REPORT, ok: false, report, error: String(error) });
					throw error; // the browser retries the sync later
				}
			)
		);
	};
	scope.addEventListener('sync', onSync);
	return () => scope.removeEventListener('sync', onSync);
}
