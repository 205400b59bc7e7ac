// `npm run test:faults -- --schedules N [--seed S] [--store sqlite|pg|sqlite,pg] [--nodes 1|2|3] [--kinds k1,k2|none] [--report file.jsonl]`
// The long run of the fault schedules in tests/faults/ (the short batch runs in `npm test`):
// N seeded schedules from seed S (default 1) against the real server on each store
// (default both; PostgreSQL is started or installed by scripts/postgres.js); `--nodes 2|3` runs the
// server as a PostgreSQL cluster of that many nodes behind the proxy (`--store pg`). Prints each
// violating schedule's seed with the command that replays it alone, then a summary per store:
// schedules, actions, violations, faults injected by kind, the slowest drain.
// `--report` appends one JSON line per schedule and prints the totals over the whole file
// (what RELIABILITY.md is made from); `--summarize a.jsonl,b.jsonl` prints those totals alone.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ensurePostgres } from './postgres.js';

const KINDS = ['frames', 'lost-ack', 'sigkill', 'tab-rebuild', 'flap', 'cut', 'revoke', 'freeze', 'node-kill'];
const usage = 'usage: npm run test:faults -- --schedules N [--seed S] [--store sqlite|pg|sqlite,pg] [--nodes 1|2|3] [--kinds k1,k2|none] [--report file.jsonl]';

function fail(message) {
	console.error(`test:faults: ${message}\n${usage}`);
	process.exit(2);
}

const options = { schedules: '100', seed: '1', store: 'sqlite,pg', nodes: '1', kinds: '', report: '', summarize: '' };
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
	const arg = args[i];
	const [flag, inline] = arg.split('=', 2);
	const key = flag.replace(/^--/, '');
	if (!flag.startsWith('--') || !(key in options)) fail(`unknown argument ${arg}`);
	const value = inline ?? args[++i];
	if (value === undefined) fail(`${flag} needs a value`);
	options[key] = value;
}
if (options.summarize) {
	// `--summarize a.jsonl,b.jsonl`: the totals of earlier runs' reports, without running anything.
	summarize(options.summarize.split(',').map((f) => resolve(f)));
	process.exit(0);
}
if (!/^[1-9]\d{0,5}$/.test(options.schedules)) fail('--schedules must be a whole number from 1 to 999999');
if (!/^\d{1,9}$/.test(options.seed)) fail('--seed must be a whole number from 0 to 999999999');
const stores = options.store.split(',');
if (stores.length === 0 || stores.some((s) => s !== 'sqlite' && s !== 'pg')) fail('--store must be sqlite, pg or sqlite,pg');
if (!/^[123]$/.test(options.nodes)) fail('--nodes must be 1, 2 or 3');
if (options.nodes !== '1' && stores.includes('sqlite')) fail('--nodes 2|3 runs a PostgreSQL cluster: add --store pg');
if (options.kinds) {
	for (const kind of options.kinds.split(',')) if (kind !== 'none' && !KINDS.includes(kind)) fail(`--kinds: unknown kind ${kind} (kinds: ${KINDS.join(', ')}, none)`);
}

const env = { ...process.env, NODE_ENV: 'test', FAULT_SCHEDULES: options.schedules, FAULT_SEED: options.seed, FAULT_STORE: options.store, FAULT_NODES: options.nodes };
if (options.kinds) env.FAULT_KINDS = options.kinds;
if (options.report) env.FAULT_REPORT = resolve(options.report);
if (stores.includes('pg')) {
	try {
		env.TEST_DATABASE_URL = await ensurePostgres({ install: true });
	} catch (error) {
		fail(error.message);
	}
}
const result = spawnSync('npx', ['vitest', 'run', '--project', 'faults'], { stdio: 'inherit', env });
if (options.report) summarize([resolve(options.report)]);
process.exit(result.status ?? 1);

/** Totals over every schedule in the report files (several runs may have appended to one). */
function summarize(files) {
	const lines = [];
	for (const file of files) {
		try {
			lines.push(...readFileSync(file, 'utf8').split('\n').filter(Boolean));
		} catch {
			console.error(`[faults] cannot read ${file}`);
		}
	}
	const file = files.join(', ');
	const byStore = new Map();
	for (const line of lines) {
		const r = JSON.parse(line);
		const s = byStore.get(r.store) ?? { schedules: 0, actions: 0, violations: 0, violating: [], injected: {}, slowest: null };
		s.schedules++;
		s.actions += r.actions;
		s.violations += r.violations.length;
		if (r.violations.length) s.violating.push(r.seed);
		for (const [k, n] of Object.entries(r.injected)) s.injected[k] = (s.injected[k] ?? 0) + n;
		if (!s.slowest || r.drainMs > s.slowest.drainMs) s.slowest = r;
		byStore.set(r.store, s);
	}
	for (const [store, s] of byStore) {
		console.log(`\n[faults] ${file} — ${store}: ${s.schedules} schedules, ${s.actions} actions, ${s.violations} violations${s.violating.length ? ` (seeds ${s.violating.join(', ')})` : ''}`);
		for (const [k, n] of Object.entries(s.injected).sort()) console.log(`  ${k}: ${n}`);
		console.log(`  slowest drain: ${s.slowest.drainMs} ms (seed ${s.slowest.seed}, ${s.slowest.actions} actions)`);
	}
}
