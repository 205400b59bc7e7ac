// `npm test`: every suite, in order, failing loudly and never skipping.
//   1. svelte-check (types, strict); the kit package built and linted (publint)
//   2. vitest: unit + protocol (the real server, the official phoenix client;
//      PostgreSQL for the cluster suites: started or installed by postgres.js)
//      + a short batch of fault schedules (tests/faults: 5 per store, 2 on a 2-node cluster; the long
//      run is `npm run test:faults -- --schedules N`)
//   3. Playwright in Chromium against the built app (installs Debian's
//      chromium when missing, or uses CHROMIUM_PATH)
// Ends with one line "N passed, N failed" summed over the suites.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { ensureChromium } from './chromium.js';
import { ensurePostgres } from './postgres.js';

const results = 'test-results';
mkdirSync(results, { recursive: true });

function run(title, command, args, env = {}) {
	console.log(`\n[test] ${title}: ${command} ${args.join(' ')}`);
	const started = Date.now();
	const result = spawnSync(command, args, { stdio: 'inherit', env: { ...process.env, ...env } });
	const seconds = ((Date.now() - started) / 1000).toFixed(1);
	if (result.status !== 0) {
		console.error(`\n[test] ${title} FAILED after ${seconds} s (exit ${result.status ?? result.signal})`);
		summary();
		process.exit(1);
	}
	console.log(`[test] ${title} ok in ${seconds} s`);
}

function counts() {
	let passed = 0;
	let failed = 0;
	const vitest = `${results}/vitest.json`;
	if (existsSync(vitest)) {
		const report = JSON.parse(readFileSync(vitest, 'utf8'));
		passed += report.numPassedTests ?? 0;
		failed += (report.numFailedTests ?? 0) + (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
	}
	const pw = `${results}/playwright.json`;
	if (existsSync(pw)) {
		const stats = JSON.parse(readFileSync(pw, 'utf8')).stats ?? {};
		passed += (stats.expected ?? 0) + (stats.flaky ?? 0);
		failed += (stats.unexpected ?? 0) + (stats.skipped ?? 0);
	}
	return { passed, failed };
}

function summary() {
	const { passed, failed } = counts();
	console.log(`\n${passed} passed, ${failed} failed`);
}

for (const file of ['vitest.json', 'playwright.json']) {
	try {
		(await import('node:fs')).rmSync(`${results}/${file}`);
	} catch {}
}

run('sync', 'npx', ['svelte-kit', 'sync']);
run('types', 'npx', ['svelte-check', '--tsconfig', './tsconfig.json', '--fail-on-warnings', '--output', 'human']);
// The kit as the npm package `outbox`: svelte-package builds dist/, publint checks what a user installs.
run('package', 'npm', ['run', 'package']);
let databaseUrl;
try {
	databaseUrl = await ensurePostgres({ install: true });
} catch (error) {
	console.error(`[test] ${error.message}`);
	process.exit(1);
}
run('unit + protocol + faults', 'npx', [
	'vitest',
	'run',
	'--reporter=default',
	'--reporter=json',
	`--outputFile.json=${results}/vitest.json`
], { NODE_ENV: 'test', TEST_DATABASE_URL: databaseUrl });

let chromium;
try {
	chromium = await ensureChromium({ install: true });
} catch (error) {
	console.error(`[test] ${error.message}`);
	process.exit(1);
}
// Builds only when the sources changed since the last build (into a fresh folder, swapped in).
run('build', 'node', ['scripts/build.js', '--if-stale']);
run('browser', 'npx', ['playwright', 'test'], {
	CHROMIUM_PATH: chromium,
});
summary();
