// `npm run test:faults -- --schedules N [--seed S] [--store sqlite|pg|sqlite,pg] [--kinds k1,k2|none] [--report file.jsonl]`
// The long run of the fault schedules in tests/faults/ (the short batch runs in `npm test`):
// N seeded schedules from seed S (default 1) against the real server on each store
// (default both; PostgreSQL is started or installed by scripts/postgres.js). Prints each
// violating schedule's seed with the command that replays it alone, then a summary per store:
// schedules, actions, violations, faults injected by kind, the slowest drain.
// `--report` appends one JSON line per schedule (what RELIABILITY.md is made from).
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { ensurePostgres } from './postgres.js';

const KINDS = ['frames', 'lost-ack', 'sigkill', 'tab-rebuild', 'flap', 'cut', 'revoke'];
const usage = 'usage: npm run test:faults -- --schedules N [--seed S] [--store sqlite|pg|sqlite,pg] [--kinds k1,k2|none] [--report file.jsonl]';

function fail(message) {
	console.error(`test:faults: ${message}\n${usage}`);
	process.exit(2);
}

const options = { schedules: '100', seed: '1', store: 'sqlite,pg', kinds: '', report: '' };
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
if (!/^[1-9]\d{0,5}$/.test(options.schedules)) fail('--schedules must be a whole number from 1 to 999999');
if (!/^\d{1,9}$/.test(options.seed)) fail('--seed must be a whole number from 0 to 999999999');
const stores = options.store.split(',');
if (stores.length === 0 || stores.some((s) => s !== 'sqlite' && s !== 'pg')) fail('--store must be sqlite, pg or sqlite,pg');
if (options.kinds) {
	for (const kind of options.kinds.split(',')) if (kind !== 'none' && !KINDS.includes(kind)) fail(`--kinds: unknown kind ${kind} (kinds: ${KINDS.join(', ')}, none)`);
}

const env = { ...process.env, NODE_ENV: 'test', FAULT_SCHEDULES: options.schedules, FAULT_SEED: options.seed, FAULT_STORE: options.store };
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
process.exit(result.status ?? 1);
