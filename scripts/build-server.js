// Builds the production server entry (src/lib/server/main.ts) into
// build-server/main.js. Dependencies stay external (node_modules).
import { build } from 'vite';

await build({
	configFile: false,
	logLevel: 'warn',
	build: {
		ssr: 'src/lib/server/main.ts',
		outDir: 'build-server',
		emptyOutDir: true,
		target: 'node20',
		sourcemap: true,
		rollupOptions: { output: { entryFileNames: 'main.js', format: 'es' } }
	}
});
console.log('built build-server/main.js');
