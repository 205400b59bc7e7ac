/**
 * The kit's browser bundle: an entry that uses `createBrowserOutbox` and the
 * Svelte bindings (bench/bundle/entry.ts), built for the browser and
 * minified by Vite as an app would, then gzipped. Svelte itself is left out
 * (every Svelte app ships it anyway); `phoenix` and `localforage` are in.
 * Also: the kit alone (phoenix and localforage left out too), and the chat
 * preset's extra (zod schemas included) for comparison. Target: ≤ 40 KB gzip
 * (35 until files in actions and socket tokens came in: 32.7 → 36.3 KB; the
 * uploader and the token source are part of every browser outbox).
 */
import { gzipSync } from 'node:zlib';
import { build, type Rollup } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

const LIMIT_KB = 40;

async function measure(entry: string, external: RegExp[]): Promise<{ minified: number; gzip: number }> {
	const output = (await build({
		configFile: false,
		logLevel: 'silent',
		plugins: [svelte()],
		// An app build (not library mode, which keeps whitespace in ES output): what a user's bundler ships.
		build: {
			write: false,
			minify: true,
			target: 'es2022',
			rollupOptions: {
				input: entry,
				preserveEntrySignatures: 'exports-only',
				external: (id) => external.some((pattern) => pattern.test(id))
			}
		}
	})) as Rollup.RollupOutput[] | Rollup.RollupOutput;
	const chunks = (Array.isArray(output) ? output : [output]).flatMap((o) => o.output).filter((c): c is Rollup.OutputChunk => c.type === 'chunk');
	const code = chunks.map((c) => c.code).join('\n');
	return { minified: Buffer.byteLength(code), gzip: gzipSync(code, { level: 9 }).length };
}

const svelteOnly = [/^svelte($|\/)/];
const kb = (bytes: number) => Math.round((bytes / 1024) * 10) / 10;
const cases = [
	{ name: 'kit: createBrowserOutbox + Svelte bindings, with phoenix and localforage (svelte external)', entry: 'bench/bundle/entry.ts', external: svelteOnly },
	{ name: 'kit alone (phoenix, localforage and svelte external)', entry: 'bench/bundle/entry.ts', external: [...svelteOnly, /^phoenix$/, /^localforage$/] },
	{ name: 'chat preset on top (its actions, rooms, zod schemas; svelte external)', entry: 'bench/bundle/chat-entry.ts', external: svelteOnly }
];
const results = [];
for (const c of cases) {
	const size = await measure(c.entry, c.external);
	console.log(`${c.name}: ${kb(size.minified)} KB minified, ${kb(size.gzip)} KB gzip`);
	results.push({ name: c.name, kind: 'bundle', minifiedKb: kb(size.minified), gzipKb: kb(size.gzip), limitKb: c === cases[0] ? LIMIT_KB : null });
}
console.log('BENCH_JSON ' + JSON.stringify(results));
