/**
 * Browser adapters for the kit's ports: localforage queue storage (IndexedDB
 * first, localStorage fallback), the phoenix Socket/Channel transport, browser
 * connectivity, cross-tab coordination, and DOM events. Each wraps its globals
 * lazily, so importing this module is safe under SSR.
 *
 * @example
 * import { createLocalforageStorage, createPhoenixTransport, createBrowserConnectivity,
 *   createTabCoordinator } from '$lib/outbox/adapters';
 * const storage = createLocalforageStorage();
 * const transport = createPhoenixTransport({ endpoint: '/socket', token: () => session.token });
 * const connectivity = createBrowserConnectivity();
 * const tabs = createTabCoordinator({ name: `outbox:${session.user.id}` });
 */
export {
	createLocalforageStorage,
	toStorageError,
	type LocalforageQueueStorage,
	type LocalforageStorageOptions,
	type StorageBackend,
	type StorageDriver
} from './localforage-storage.js';
export {
	DEFAULT_DB_NAME,
	QUEUE_STORE,
	itemKey,
	itemPrefix,
	itemRange,
	metaKey,
	namespacePrefix,
	prefixRange
} from './storage-layout.js';
export { createPhoenixTransport, type PhoenixTransport, type PhoenixTransportOptions } from './phoenix-transport.js';
export { fetchSessionCheck, type SessionCheck, type SessionCheckResult } from './session-check.js';
export { createSocketTokenSource, type SocketTokenSource, type SocketTokenSourceOptions } from './socket-token.js';
export { createBrowserConnectivity, type ConnectivityTarget } from './browser-connectivity.js';
export { createTabCoordinator, type BrowserTabCoordinator, type TabCoordinatorOptions } from './tab-coordinator.js';
export { dispatchOutboxEvent, type DispatchTarget } from './dom-events.js';
export { createHttpUploader, resultOf as uploadResultOf, type HttpUploaderOptions } from './http-uploader.js';
