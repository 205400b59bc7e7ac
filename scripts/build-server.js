// Builds the production server entry (src/lib/server/main.ts) into
// <OUTBOX_BUILD_OUT or build>/main.js, beside adapter-node's handler.js.
// Dependencies stay external (node_modules).
import { build } from 'vite';

const outDir = process.env.OUTBOX_BUILD_OUT || 'build';
await build({
	configFile: false,
	logLevel: 'warn',
	build: {
		ssr: 'src/lib/server/main.ts',
		outDir,
		emptyOutDir: false,
		target: 'node20',
		sourcemap: true,
		rollupOptions: { output: { entryFileNames: 'main.js', chunkFileNames: 'main-chunks/[name]-[hash].js', format: 'es' } }
	}
});
console.log(`built ${outDir}/main.js`);
