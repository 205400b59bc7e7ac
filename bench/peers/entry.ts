// The libraries of the patterns bench/kit-browser.ts compares the kit with, as one
// script the bench builds itself (bench/lib/peers.ts) and evaluates in the app's
// page: TanStack Query v5 with its persisters over IndexedDB (idb-keyval), and the
// official phoenix client. Never part of the app's build, so its service worker
// never precaches them.
import { MutationObserver, QueryClient, onlineManager } from '@tanstack/query-core';
import { persistQueryClientRestore, persistQueryClientSave, persistQueryClientSubscribe } from '@tanstack/query-persist-client-core';
import { createAsyncStoragePersister } from '@tanstack/query-async-storage-persister';
import { del, get, set } from 'idb-keyval';
import { Socket } from 'phoenix';

(window as unknown as { __peers: unknown }).__peers = {
	QueryClient,
	MutationObserver,
	onlineManager,
	persistQueryClientRestore,
	persistQueryClientSubscribe,
	persistQueryClientSave,
	createAsyncStoragePersister,
	idb: { get, set, del },
	Socket
};
