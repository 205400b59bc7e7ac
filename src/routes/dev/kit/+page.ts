// The adapters need a real browser (IndexedDB, Web Locks, BroadcastChannel): no SSR here.
export const ssr = false;
export const prerender = false;
