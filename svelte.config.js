import adapter from '@sveltejs/adapter-node';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @type {import('@sveltejs/kit').Config} */
const config = {
	preprocess: vitePreprocess(),
	kit: {
		adapter: adapter({ out: 'build' }),
		// The service worker (src/service-worker.ts) serves ONE cached shell, the
		// HTML of `/`, for every route while offline: its asset URLs must be
		// absolute (`/_app/...`), not relative to the page that first got it.
		paths: { relative: false },
		// SvelteKit registers /service-worker.js on load.
		serviceWorker: { register: true }
	}
};

export default config;
