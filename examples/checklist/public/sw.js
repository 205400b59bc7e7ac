// The example's service worker: the app shell (this origin's GETs) from the
// network when it answers, else from the cache, so a reload works offline.
// The queue itself is the kit's (IndexedDB), not this worker's.
const CACHE = 'checklist-shell';

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));
self.addEventListener('fetch', (event) => {
	const url = new URL(event.request.url);
	if (event.request.method !== 'GET' || url.origin !== self.location.origin) return;
	if (url.pathname.startsWith('/socket') || url.pathname.startsWith('/debug')) return;
	event.respondWith(
		fetch(event.request)
			.then(async (response) => {
				if (response.ok) await (await caches.open(CACHE)).put(event.request.mode === 'navigate' ? '/' : event.request, response.clone());
				return response;
			})
			.catch(async () => (await caches.match(event.request.mode === 'navigate' ? '/' : event.request)) ?? Response.error())
	);
});
