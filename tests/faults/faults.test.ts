/**
 * Fault schedules against the real server (see bench.ts). `npm test` runs a
 * short batch (5 schedules per store, and 2 on a PostgreSQL cluster of 2
 * nodes); `npm run test:faults -- --schedules N [--seed S] [--store
 * sqlite|pg] [--nodes 1|2|3]` the long one (through the FAULT_* variables).
 * A violating schedule prints its seed and the command that replays it alone.
 */
import { appendFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FaultBench, type ScheduleResult, type StoreKind } from './bench.js';
import { FAULT_KINDS, generateSchedule, type FaultKind } from './schedule.js';

const SCHEDULES = Number(process.env.FAULT_SCHEDULES ?? 5);
const SEED = Number(process.env.FAULT_SEED ?? 1);
const STORES = (process.env.FAULT_STORE ?? 'sqlite,pg').split(',') as StoreKind[];
const REPORT = process.env.FAULT_REPORT ?? null;
/** Server nodes for every run (2–3: a PostgreSQL cluster). Unset (`npm test`): one node, plus the short cluster batch below. */
const NODES = process.env.FAULT_NODES ? Number(process.env.FAULT_NODES) : null;
/** `npm test`'s cluster batch: seeds 11–12 on 2 nodes (each kills one node mid-flush; the first SIGKILLs the whole cluster too, the second freezes a leader). */
const CLUSTER_BATCH = { store: 'pg' as const, nodes: 2, seed: 11, schedules: 2 };
/** `FAULT_KINDS=flap,cut` narrows the faults drawn (`none`: a schedule without faults). */
const KINDS: readonly FaultKind[] = process.env.FAULT_KINDS
	? (process.env.FAULT_KINDS.split(',').filter((k) => k !== 'none') as FaultKind[])
	: FAULT_KINDS;
for (const kind of KINDS) if (!FAULT_KINDS.includes(kind)) throw new Error(`FAULT_KINDS: unknown kind ${kind} (kinds: ${FAULT_KINDS.join(', ')}, none)`);

if (NODES !== null && (!Number.isInteger(NODES) || NODES < 1 || NODES > 3)) throw new Error(`FAULT_NODES must be 1, 2 or 3, got ${process.env.FAULT_NODES}`);
const runs = STORES.map((store) => ({ store, nodes: NODES ?? 1, seed: SEED, schedules: SCHEDULES }));
if (NODES === null && !process.env.FAULT_SCHEDULES && STORES.includes('pg')) runs.push(CLUSTER_BATCH);

for (const { store, nodes, seed: SEED, schedules: SCHEDULES } of runs) {
	const where = nodes > 1 ? `${store}, ${nodes} nodes` : store;
	describe(`fault schedules on ${where}`, () => {
		const bench = new FaultBench(store, nodes);
		const results: ScheduleResult[] = [];
		beforeAll(() => bench.start(), 60_000);
		afterAll(async () => {
			await bench.close();
			summarize(where, results);
		}, 60_000);

		test(`${SCHEDULES} schedules from seed ${SEED}: every action once, in order, no seq gap, every view equal to the server`, async () => {
			const failures: string[] = [];
			for (let i = 0; i < SCHEDULES; i++) {
				const seed = SEED + i;
				const result = await bench.run(generateSchedule(seed, KINDS, nodes));
				results.push(result);
				if (REPORT) appendFileSync(REPORT, JSON.stringify({ store: where, ...result }) + '\n');
				if (result.violations.length > 0) {
					const replay = `npm run test:faults -- --schedules 1 --seed ${seed} --store ${store}${nodes > 1 ? ` --nodes ${nodes}` : ''}`;
					const text = `schedule seed ${seed} (${where}) broke ${result.violations.length} rule(s):\n  ${result.violations.slice(0, 10).join('\n  ')}\nreplay: ${replay}`;
					console.error(text);
					failures.push(text);
				}
			}
			expect(failures).toEqual([]);
		}, Math.max(120_000, SCHEDULES * 60_000));
	});
}

function summarize(store: string, results: ScheduleResult[]): void {
	const injected: Record<string, number> = {};
	for (const r of results) for (const [k, n] of Object.entries(r.injected)) injected[k] = (injected[k] ?? 0) + n;
	const slowest = results.reduce<ScheduleResult | null>((a, r) => (a && a.drainMs >= r.drainMs ? a : r), null);
	const violations = results.reduce((n, r) => n + r.violations.length, 0);
	const actions = results.reduce((n, r) => n + r.actions, 0);
	console.info(
		`faults ${store}: ${results.length} schedules, ${actions} actions, ${violations} violations; injected ${JSON.stringify(injected)}; ` +
			`slowest drain ${slowest?.drainMs ?? 0} ms (seed ${slowest?.seed ?? '-'})`
	);
}
