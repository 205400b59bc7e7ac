// `node bench/load/profile-top.js <file.cpuprofile> [N]`: the N functions
// with the most self time in a V8 CPU profile (what `--cpu-prof` writes),
// as a share of the samples taken while the process was not idle.
import { readFileSync } from 'node:fs';

const [file, n = '25'] = process.argv.slice(2);
if (!file) throw new Error('usage: node bench/load/profile-top.js <file.cpuprofile> [N]');
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const self = new Map();
for (const id of profile.samples) self.set(id, (self.get(id) ?? 0) + 1);
const totals = new Map();
let busy = 0;
for (const [id, count] of self) {
	const { callFrame } = byId.get(id);
	if (callFrame.functionName === '(idle)' || callFrame.functionName === '(program)') continue;
	busy += count;
	const where = callFrame.url ? `${callFrame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/(src|bench)\//, '$1/')}:${callFrame.lineNumber + 1}` : '';
	const key = `${callFrame.functionName || '(anonymous)'} ${where}`.trim();
	totals.set(key, (totals.get(key) ?? 0) + count);
}
console.log(`${busy} busy samples`);
for (const [key, count] of [...totals].sort((a, b) => b[1] - a[1]).slice(0, Number(n))) {
	console.log(`${((count / busy) * 100).toFixed(1).padStart(5)}%  ${key}`);
}
