import { sveltekit } from '@sveltejs/kit/vite';
import type { Plugin, ViteDevServer } from 'vite';
import { defineConfig } from 'vitest/config';

/**
 * `npm run dev`: the same API and Phoenix socket as production, attached to
 * Vite's own HTTP server (Vite's HMR socket keeps its path).
 */
function outboxDevServer(): Plugin {
	return {
		name: 'outbox-dev-server',
		apply: 'serve',
		async configureServer(server: ViteDevServer) {
			if (process.env.VITEST || !server.httpServer) return;
			const { createOutboxServer } = (await server.ssrLoadModule('/src/lib/server/app.ts')) as typeof import('./src/lib/server/app');
			const { configFromEnv } = (await server.ssrLoadModule('/src/lib/server/config.ts')) as typeof import('./src/lib/server/config');
			const outbox = await createOutboxServer(configFromEnv());
			outbox.attach(server.httpServer as import('node:http').Server);
			server.middlewares.use((req, res, next) => outbox.handle(req, res, next));
			server.httpServer.once('close', () => void outbox.close());
		}
	};
}

export default defineConfig({
	plugins: [outboxDevServer(), sveltekit()],
	test: {
		projects: [
			{
				extends: true,
				test: {
					name: 'unit',
					include: ['tests/unit/**/*.test.ts'],
					environment: 'node'
				}
			},
			{
				extends: true,
				test: {
					name: 'protocol',
					include: ['tests/protocol/**/*.test.ts'],
					environment: 'node',
					testTimeout: 30_000,
					hookTimeout: 30_000
				}
			},
			{
				extends: true,
				test: {
					name: 'faults',
					include: ['tests/faults/**/*.test.ts'],
					environment: 'node',
					testTimeout: 120_000,
					hookTimeout: 60_000
				}
			}
		]
	}
});
