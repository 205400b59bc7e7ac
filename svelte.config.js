import adapter from '@sveltejs/adapter-node';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @type {import('@sveltejs/kit').Config} */
const config = {
	preprocess: vitePreprocess(),
	kit: {
		// scripts/build.js builds into a fresh folder (OUTBOX_BUILD_OUT) and swaps it in, so a
		// running server's files are never rewritten; a bare `vite build` writes ./build.
		adapter: adapter({ out: process.env.OUTBOX_BUILD_OUT || 'build' }),
		// The service worker (src/service-worker.ts) serves ONE cached shell, the
		// HTML of `/`, for every route while offline: its asset URLs must be
		// absolute (`/_app/...`), not relative to the page that first got it.
		paths: { relative: false },
		// SvelteKit registers /service-worker.js on load.
		serviceWorker: { register: true },
		// Every page's Content-Security-Policy. Hash mode: SvelteKit adds the hash of its inline
		// bootstrap script, which stays valid when the service worker serves the cached shell
		// offline (a nonce would be replayed). hooks.server.ts adds the socket's ws(s) origin.
		csp: {
			mode: 'hash',
			directives: {
				'default-src': ['self'],
				'script-src': ['self'],
				'style-src': ['self'],
				// Components set a few inline style attributes (positions, sizes); no <style> or script.
				'style-src-attr': ['unsafe-inline'],
				'img-src': ['self', 'blob:', 'data:'],
				'font-src': ['self'],
				'connect-src': ['self'],
				'worker-src': ['self'],
				'manifest-src': ['self'],
				'form-action': ['self'],
				'frame-ancestors': ['none'],
				'object-src': ['none'],
				'base-uri': ['none']
			}
		}
	}
};

export default config;
