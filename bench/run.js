// `npm run bench`: builds each bench/*.ts with Vite (SSR, deps external),
// runs it in its own Node process, saves bench/results/<name>.json and
// rewrites BENCHMARKS.md with every result side by side.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { build } from 'vite';

// `npm run bench -- bundle-size` runs one bench; no argument runs them all.
const only = process.argv.slice(2);
const benches = readdirSync('bench').filter((f) => f.endsWith('.ts') && (only.length === 0 || only.includes(f.replace(/\.ts$/, ''))));
mkdirSync('bench/results', { recursive: true });
const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
const sections = [];

for (const file of benches) {
	const name = file.replace(/\.ts$/, '');
	await build({
		configFile: false,
		logLevel: 'warn',
		build: {
			ssr: `bench/${file}`,
			outDir: 'bench/.build',
			emptyOutDir: false,
			target: 'node20',
			rollupOptions: { output: { entryFileNames: `${name}.js`, format: 'es' } }
		}
	});
	console.log(`\n== ${name}`);
	const output = execFileSync(process.execPath, [`bench/.build/${name}.js`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NODE_ENV: 'production' } });
	process.stdout.write(output.split('\n').filter((l) => !l.startsWith('BENCH_JSON ')).join('\n'));
	const line = output.split('\n').find((l) => l.startsWith('BENCH_JSON '));
	if (!line) throw new Error(`${file} printed no BENCH_JSON line`);
	const results = JSON.parse(line.slice('BENCH_JSON '.length));
	const record = { bench: name, date: new Date().toISOString(), machine, results };
	writeFileSync(`bench/results/${name}.json`, JSON.stringify(record, null, 2) + '\n');
	sections.push(record);
}

const table = (record) =>
	record.results.every((r) => r.kind === 'attachments')
		? [`### ${record.bench}`, '', `Run ${record.date} on ${record.machine}. Command: \`npm run bench -- ${record.bench}\`.`, '',
				'| case | all confirmed (s) | shown on the other client (s) | server RSS idle (MB) | peak (MB) | above idle (MB) | limit |', '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
				...record.results.map((r) => `| ${r.name} | ${r.confirmedSeconds} | ${r.shownSeconds} | ${r.idleRssMb} | ${r.peakRssMb} | ${r.rssAboveIdleMb} | ≤ ${r.rssLimitMb} MB ${r.rssAboveIdleMb <= r.rssLimitMb ? '(met)' : '(NOT met)'} |`)].join('\n')
		: record.results.every((r) => r.kind === 'bundle')
		? [`### ${record.bench}`, '', `Run ${record.date} on ${record.machine}.`, '', '| bundle | minified KB | gzip KB | limit |', '| --- | ---: | ---: | ---: |',
				...record.results.map((r) => `| ${r.name} | ${r.minifiedKb} | ${r.gzipKb} | ${r.limitKb === null ? '' : `≤ ${r.limitKb} KB ${r.gzipKb <= r.limitKb ? '(met)' : '(NOT met)'}`} |`)].join('\n')
		: [`### ${record.bench}`, '', `Run ${record.date} on ${record.machine}.`, '', '| case | messages | seconds | msg/s |', '| --- | ---: | ---: | ---: |',
				...record.results.map((r) => `| ${r.name} | ${r.messages} | ${r.seconds} | ${r.perSecond.toLocaleString('en')} |`)].join('\n');

const previous = (() => {
	try {
		return readFileSync('BENCHMARKS.md', 'utf8');
	} catch {
		return '';
	}
})();
const intro = '# Benchmarks\n\nProduced by `npm run bench` (bench/run.js); raw numbers in `bench/results/*.json`. Every case of one table ran in the same run on the same machine, so compare within a table.\n';
// Every bench's latest record (the ones not run now keep their own date and machine).
const records = readdirSync('bench/results')
	.filter((f) => f.endsWith('.json'))
	.map((f) => JSON.parse(readFileSync(`bench/results/${f}`, 'utf8')))
	.filter((r) => Array.isArray(r.results) && typeof r.bench === 'string')
	.sort((a, b) => a.bench.localeCompare(b.bench));
// `npm run load` results are recorded by hand under "## Server load" (bench/load/): keep them.
const serverLoad = previous.indexOf('\n## Server load');
const kept = serverLoad === -1 ? '' : '\n' + previous.slice(serverLoad + 1);
writeFileSync('BENCHMARKS.md', intro + '\n' + records.map(table).join('\n\n') + '\n' + kept);
if (previous) console.log('\nBENCHMARKS.md updated');
