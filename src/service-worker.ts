/// <reference types="@sveltejs/kit" />
/// <reference no-default-lib="true"/>
/// <reference lib="esnext" />
/// <reference lib="webworker" />
/**
 * The app's service worker: the app shell offline, and the queue flushed by
 * Background Sync while no tab is open.
 *
 * Caches (all named after the build `version`; older ones are deleted on activate):
 * - `outbox-assets-<version>`: every file of the build and of `static/`,
 *   precached on install and served cache-first (they are content-hashed or
 *   belong to this version).
 * - `outbox-pages-<version>`: the app shell. The app renders in the browser
 *   (`ssr = false`), so the HTML of `/` serves every route; it is stored under
 *   the fixed key `SHELL_KEY` on install and again after every successful
 *   navigation to `/`; other pages are kept under their own URL (the newest
 *   `MAX_PAGES`).
 *
 * Navigations go to the network first; after `NAVIGATION_TIMEOUT_MS`, a
 * network error or a 5xx, the page's own copy or else the shell is served.
 * `/api/*`, `/socket/*`, other origins and non-GET requests are never
 * touched (never cached).
 */
import { build, files, version } from '$service-worker';
import { handleBackgroundFlush, SESSION_CACHE } from '$lib/outbox/sw';
import { chatFlushOptions } from '$lib/chat/sw';

declare let self: ServiceWorkerGlobalScope;

const ASSET_CACHE = `outbox-assets-${version}`;
const PAGE_CACHE = `outbox-pages-${version}`;
/** Kept across versions: the page's record of who is signed in (session-marker.ts). */
const OWN_CACHES = new Set([ASSET_CACHE, PAGE_CACHE, SESSION_CACHE]);
const SHELL_KEY = '/__outbox-shell';
const NAVIGATION_TIMEOUT_MS = 3000;
const MAX_PAGES = 30;

/** Polled by SvelteKit to detect a new deploy: must always come from the network. */
const isVersionFile = (path: string) => path.endsWith('/_app/version.json');
const ASSETS = [...build, ...files].filter((path) => !isVersionFile(path));
const ASSET_SET = new Set(ASSETS);

self.addEventListener('install', (event) => {
	event.waitUntil(
		(async () => {
			const assets = await caches.open(ASSET_CACHE);
			await assets.addAll(ASSETS);
			const shell = await fetch(new Request('/', { cache: 'no-store', credentials: 'same-origin' }));
			if (!shell.ok) throw new Error(`the app shell (/) answered ${shell.status}`);
			await (await caches.open(PAGE_CACHE)).put(SHELL_KEY, await unredirected(shell));
			await self.skipWaiting();
		})()
	);
});

self.addEventListener('activate', (event) => {
	event.waitUntil(
		(async () => {
			for (const key of await caches.keys()) {
				if (key.startsWith('outbox-') && !OWN_CACHES.has(key)) await caches.delete(key);
			}
			await self.clients.claim();
		})()
	);
});

self.addEventListener('fetch', (event) => {
	const { request } = event;
	if (request.method !== 'GET') return;
	const url = new URL(request.url);
	if (url.origin !== self.location.origin) return;
	if (isNeverCached(url.pathname)) return;
	if (request.mode === 'navigate') {
		event.respondWith(navigate(event, url));
	} else if (ASSET_SET.has(url.pathname)) {
		event.respondWith(cacheFirst(request));
	}
	// Anything else goes to the network untouched.
});

// The queue, flushed over POST /api/sync/events by the kit's own planner while no tab is open.
handleBackgroundFlush(self, chatFlushOptions());

function isNeverCached(path: string): boolean {
	return path.startsWith('/api/') || path === '/api' || path.startsWith('/socket/') || path === '/socket' || isVersionFile(path);
}

async function navigate(event: FetchEvent, url: URL): Promise<Response> {
	const network = fetch(event.request);
	try {
		const response = await withTimeout(network, NAVIGATION_TIMEOUT_MS);
		if (response.status >= 500) return (await cachedPage(url)) ?? response;
		if (response.ok && isHtml(response)) event.waitUntil(rememberPage(url, response.clone()));
		return response;
	} catch {
		// Offline, or too slow: a late answer still refreshes the cache for next time.
		event.waitUntil(
			network.then((late) => (late.ok && isHtml(late) ? rememberPage(url, late) : undefined)).catch(() => undefined)
		);
		return (await cachedPage(url)) ?? offlineResponse();
	}
}

async function cachedPage(url: URL): Promise<Response | undefined> {
	const pages = await caches.open(PAGE_CACHE);
	return (await pages.match(pageKey(url))) ?? (await pages.match(SHELL_KEY));
}

async function rememberPage(url: URL, response: Response): Promise<void> {
	const pages = await caches.open(PAGE_CACHE);
	if (url.pathname === '/') {
		await pages.put(SHELL_KEY, response);
		return;
	}
	await pages.put(pageKey(url), response);
	const keys = (await pages.keys()).filter((request) => new URL(request.url).pathname !== SHELL_KEY);
	// Oldest first (insertion order): keep the newest MAX_PAGES.
	for (const stale of keys.slice(0, Math.max(0, keys.length - MAX_PAGES))) await pages.delete(stale);
}

function pageKey(url: URL): string {
	return url.pathname;
}

async function cacheFirst(request: Request): Promise<Response> {
	const assets = await caches.open(ASSET_CACHE);
	const cached = await assets.match(request, { ignoreSearch: true });
	if (cached) return cached;
	const response = await fetch(request);
	if (response.ok) await assets.put(request, response.clone());
	return response;
}

/** A followed redirect cannot answer a navigation: keep only status, headers and body. */
async function unredirected(response: Response): Promise<Response> {
	if (!response.redirected) return response;
	return new Response(await response.blob(), { status: response.status, statusText: response.statusText, headers: response.headers });
}

function isHtml(response: Response): boolean {
	return (response.headers.get('content-type') ?? '').includes('text/html');
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
	return new Promise((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
		promise.then(
			(value) => (clearTimeout(timer), resolve(value)),
			(error) => (clearTimeout(timer), reject(error))
		);
	});
}

function offlineResponse(): Response {
	return new Response(
		'<!doctype html><meta charset="utf-8"><title>Outbox — offline</title><p>You are offline and this page is not stored yet.</p>',
		{ status: 503, headers: { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': "default-src 'none'; frame-ancestors 'none'" } }
	);
}
