/**
 * The peers' libraries (bench/peers/entry.ts) built by the bench itself into
 * one browser script, and put into a page with `page.evaluate` (DevTools
 * evaluation, which the app's Content-Security-Policy does not govern). The
 * app's build never holds them: its service worker precaches no bench code
 * (tests/e2e/service-worker.spec.ts checks).
 */
import { build, type Rollup } from 'vite';
import type { Page } from '@playwright/test';

let script: Promise<string> | null = null;

/** The bundled script (built once per process). */
export function peersScript(): Promise<string> {
	script ??= (async () => {
		const output = (await build({
			configFile: false,
			logLevel: 'silent',
			// Library mode leaves `process.env.NODE_ENV` in place; a browser has no `process`.
			define: { 'process.env.NODE_ENV': JSON.stringify('production') },
			build: {
				write: false,
				minify: true,
				target: 'es2022',
				lib: { entry: 'bench/peers/entry.ts', formats: ['iife'], name: 'outboxBenchPeers' }
			}
		})) as Rollup.RollupOutput[] | Rollup.RollupOutput;
		const chunks = (Array.isArray(output) ? output : [output]).flatMap((o) => o.output).filter((c): c is Rollup.OutputChunk => c.type === 'chunk');
		if (chunks.length !== 1) throw new Error(`the peers script built into ${chunks.length} chunks, expected 1`);
		return chunks[0]!.code;
	})();
	return script;
}

/** Put the peers on `window.__peers` in `page` (again after every navigation or reload). */
export async function loadPeers(page: Page): Promise<void> {
	await page.evaluate(await peersScript());
	await page.waitForFunction(() => (window as never as { __peers?: unknown }).__peers !== undefined);
}
