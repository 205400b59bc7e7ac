// `npm run bench`: builds each bench/*.ts with Vite (SSR, deps external),
// runs it in its own Node process, saves bench/results/<name>.json and
// rewrites BENCHMARKS.md with every result side by side.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { build } from 'vite';

const benches = readdirSync('bench').filter((f) => f.endsWith('.ts'));
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
	[`### ${record.bench}`, '', `Run ${record.date} on ${record.machine}.`, '', '| case | messages | seconds | msg/s |', '| --- | ---: | ---: | ---: |',
		...record.results.map((r) => `| ${r.name} | ${r.messages} | ${r.seconds} | ${r.perSecond.toLocaleString('en')} |`)].join('\n');

const previous = (() => {
	try {
		return readFileSync('BENCHMARKS.md', 'utf8');
	} catch {
		return '';
	}
})();
const intro = '# Benchmarks\n\nProduced by `npm run bench` (bench/run.js); raw numbers in `bench/results/*.json`. Every case of one table ran in the same run on the same machine, so compare within a table.\n';
// `npm run load` results are recorded by hand under "## Server load" (bench/load/): keep them.
const serverLoad = previous.indexOf('\n## Server load');
const kept = serverLoad === -1 ? '' : '\n' + previous.slice(serverLoad + 1);
writeFileSync('BENCHMARKS.md', intro + '\n' + sections.map(table).join('\n\n') + '\n' + kept);
if (previous) console.log('\nBENCHMARKS.md updated');
