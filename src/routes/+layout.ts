// The app renders in the browser only: the same HTML shell serves every
// route, so a service worker can serve it offline, and the engine (IndexedDB,
// Web Locks, the socket) only exists in a browser anyway.
export const ssr = false;
export const prerender = false;
