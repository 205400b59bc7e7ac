// What the kernel says about a process tree: CPU time (utime + stime, the
// tree's live processes and the children they reaped) and RSS, read from
// /proc so a load generator sharing the cores cannot hide the server's cost.
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second for /proc/<pid>/stat times (USER_HZ; 100 on Linux everywhere that matters). */
const TICKS_PER_S = 100;
const PAGE_BYTES = 4096;

/** The fields of /proc/<pid>/stat after the command name (which may hold spaces and parentheses). */
function statFields(pid) {
	const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
	return text.slice(text.lastIndexOf(')') + 2).split(' ');
}

/** `pid` and every live descendant (a node:cluster primary and its workers). */
export function processTree(pid) {
	const children = new Map();
	for (const entry of readdirSync('/proc')) {
		if (!/^\d+$/.test(entry)) continue;
		try {
			const ppid = Number(statFields(entry)[1]);
			if (!children.has(ppid)) children.set(ppid, []);
			children.get(ppid).push(Number(entry));
		} catch {
			// The process ended while we looked.
		}
	}
	const tree = [];
	const stack = [pid];
	while (stack.length && tree.length < 10_000) {
		const next = stack.pop();
		tree.push(next);
		stack.push(...(children.get(next) ?? []));
	}
	return tree;
}

/**
 * CPU seconds (user + system, including reaped children) and RSS bytes of
 * `pid`'s tree. Fields 14–17 of stat are utime, stime, cutime, cstime in
 * ticks; field 24 is RSS in pages.
 */
export function treeUsage(pid) {
	let user = 0;
	let system = 0;
	let rssBytes = 0;
	let processes = 0;
	for (const p of processTree(pid)) {
		try {
			const f = statFields(p);
			// After the name: f[0] is field 3 (state), so field N is f[N - 3].
			user += Number(f[11]) + Number(f[13]);
			system += Number(f[12]) + Number(f[14]);
			rssBytes += Number(f[21]) * PAGE_BYTES;
			processes++;
		} catch {
			// Gone meanwhile.
		}
	}
	return { cpuS: (user + system) / TICKS_PER_S, userS: user / TICKS_PER_S, systemS: system / TICKS_PER_S, rssBytes, processes };
}
