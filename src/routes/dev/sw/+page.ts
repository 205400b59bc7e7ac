// IndexedDB, Web Locks and the service worker exist only in the browser: no SSR here.
export const ssr = false;
export const prerender = false;
