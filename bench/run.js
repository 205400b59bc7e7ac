// `npm run bench`: builds each bench/*.ts with Vite (SSR, deps external),
// runs it in its own Node process, saves bench/results/<name>.json and
// rewrites BENCHMARKS.md with every result side by side.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { build } from 'vite';

// `npm run bench -- bundle-size` runs one bench; no argument runs them all;
// `npm run bench -- --render` only rewrites BENCHMARKS.md from bench/results.
const render = process.argv.includes('--render');
const only = process.argv.slice(2).filter((a) => a !== '--render');
const benches = render ? [] : readdirSync('bench').filter((f) => f.endsWith('.ts') && (only.length === 0 || only.includes(f.replace(/\.ts$/, ''))));
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
	// The load average at the end of the run: on a shared 2-core box, other work stretches every wall time.
	const record = { bench: name, date: new Date().toISOString(), machine, load: os.loadavg().map((l) => l.toFixed(1)).join(' / '), results };
	writeFileSync(`bench/results/${name}.json`, JSON.stringify(record, null, 2) + '\n');
	sections.push(record);
}

const heading = (record) => [
	`### ${record.bench}`,
	'',
	`Run ${record.date} on ${record.machine}${record.load ? ` (load average ${record.load} over 1 / 5 / 15 min)` : ''}. Command: \`npm run bench -- ${record.bench}\`.`,
	''
];
const row = (cells) => `| ${cells.join(' | ')} |`;
const rule = (count) => row(Array.from({ length: count }, (_, i) => (i === 0 ? '---' : '---:')));

/** One record as a Markdown table, by the kind of its results. */
function table(record) {
	const { results } = record;
	if (results.every((r) => r.kind === 'attachments')) {
		return [...heading(record), row(['case', 'all confirmed (s)', 'shown on the other client (s)', 'server RSS idle (MB)', 'peak (MB)', 'above idle (MB)', 'limit']), rule(7),
			...results.map((r) => row([r.name, r.confirmedSeconds, r.shownSeconds, r.idleRssMb, r.peakRssMb, r.rssAboveIdleMb, `≤ ${r.rssLimitMb} MB ${r.rssAboveIdleMb <= r.rssLimitMb ? '(met)' : '(NOT met)'}`]))].join('\n');
	}
	if (results.every((r) => r.kind === 'bundle')) {
		return [...heading(record), row(['bundle', 'minified KB', 'gzip KB', 'limit']), rule(4),
			...results.map((r) => row([r.name, r.minifiedKb, r.gzipKb, r.limitKb === null ? '' : `≤ ${r.limitKb} KB ${r.gzipKb <= r.limitKb ? '(met)' : '(NOT met)'}`]))].join('\n');
	}
	if (results.every((r) => r.kind === 'big-room')) {
		const lines = [...heading(record), row(['case', 'value', 'target']), rule(3),
			...results.map((r) => row([r.name, `${r.value} ${r.unit}`, r.target === undefined ? '' : `${r.target} ${r.met ? '(met)' : '(NOT met)'}`]))];
		const histogram = results.find((r) => r.histogram)?.histogram;
		if (histogram) {
			writeFileSync(`bench/results/${record.bench}.svg`, frameChart(record, histogram));
			lines.push('', `![${record.bench}: frames by duration while scrolling](bench/results/${record.bench}.svg)`);
		}
		return lines.join('\n');
	}
	const peers = results.some((r) => r.vsKit !== undefined);
	const lines = [...heading(record), row(['case', 'messages', 'seconds', 'msg/s', ...(peers ? ['time per action vs the kit'] : [])]), rule(peers ? 5 : 4),
		...results.map((r) => row([r.name, r.messages, r.seconds, r.perSecond.toLocaleString('en'), ...(peers ? [r.vsKit === undefined ? '' : `${r.vsKit}×`] : [])]))];
	if (peers) {
		writeFileSync(`bench/results/${record.bench}.svg`, chart(record));
		lines.push('', `![${record.bench}: time per action, shorter is better](bench/results/${record.bench}.svg)`);
	}
	return lines.join('\n');
}

/** A bar chart (SVG) of the time per action of each case of a peers table, shorter is better. */
function chart(record) {
	const escape = (text) => String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
	const bars = record.results.map((r) => ({ name: r.name, us: (r.seconds * 1e6) / r.messages }));
	const max = Math.max(...bars.map((b) => b.us));
	const [labelW, barW, rowH, top] = [560, 360, 22, 40];
	const width = labelW + barW + 110;
	const height = top + bars.length * rowH + 16;
	const rows = bars.map((b, i) => {
		const y = top + i * rowH;
		const w = Math.max(1, (b.us / max) * barW);
		const kit = b.name.startsWith('kit:');
		return `<text x="${labelW - 8}" y="${y + 15}" text-anchor="end">${escape(b.name)}</text>` +
			`<rect x="${labelW}" y="${y + 4}" width="${w.toFixed(1)}" height="${rowH - 8}" fill="${kit ? '#2563eb' : '#9ca3af'}"/>` +
			`<text x="${labelW + w + 6}" y="${y + 15}">${b.us < 100 ? b.us.toFixed(1) : Math.round(b.us).toLocaleString('en')} µs</text>`;
	});
	return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="system-ui, sans-serif" font-size="12">` +
		`<rect width="100%" height="100%" fill="#fff"/>` +
		`<text x="8" y="20" font-size="14" font-weight="600">${escape(record.bench)}: time per action (µs, shorter is better), ${escape(record.date.slice(0, 10))}</text>` +
		rows.join('') + '</svg>\n';
}

/** Bars (SVG) of frames by duration bucket: the frame interval and the main thread's work per frame, side by side. */
function frameChart(record, histogram) {
	const escape = (text) => String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
	const max = Math.max(1, ...histogram.flatMap((b) => [b.intervals, b.work]));
	const [labelW, barW, rowH, top] = [110, 420, 34, 58];
	const width = labelW + barW + 90;
	const height = top + histogram.length * rowH + 12;
	const bar = (y, count, fill) => {
		const w = count === 0 ? 0 : Math.max(1, (Math.log10(count + 1) / Math.log10(max + 1)) * barW);
		return `<rect x="${labelW}" y="${y}" width="${w.toFixed(1)}" height="12" fill="${fill}"/><text x="${labelW + w + 6}" y="${y + 10}">${count.toLocaleString('en')}</text>`;
	};
	const rows = histogram.map((b, i) => {
		const y = top + i * rowH;
		return `<text x="${labelW - 8}" y="${y + 18}" text-anchor="end">${escape(b.label)} ms</text>` + bar(y + 2, b.intervals, '#2563eb') + bar(y + 16, b.work, '#9ca3af');
	});
	return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="system-ui, sans-serif" font-size="12">` +
		`<rect width="100%" height="100%" fill="#fff"/>` +
		`<text x="8" y="20" font-size="14" font-weight="600">${escape(record.bench)}: frames by duration while scrolling (log scale), ${escape(record.date.slice(0, 10))}</text>` +
		`<rect x="8" y="32" width="12" height="12" fill="#2563eb"/><text x="26" y="42">interval between frames</text>` +
		`<rect x="190" y="32" width="12" height="12" fill="#9ca3af"/><text x="208" y="42">main-thread work in the frame</text>` +
		rows.join('') + '</svg>\n';
}

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
// Sections written by hand (`## ...`: the big room's before and after, `npm run load` results under
// "## Server load", bench/load/) follow the generated tables (`### <bench>`): keep them.
const byHand = previous.indexOf('\n## ');
const kept = byHand === -1 ? '' : '\n' + previous.slice(byHand + 1);
writeFileSync('BENCHMARKS.md', intro + '\n' + records.map(table).join('\n\n') + '\n' + kept);
if (previous) console.log('\nBENCHMARKS.md updated');
