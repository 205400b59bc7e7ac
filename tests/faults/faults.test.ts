/**
 * Fault schedules against the real server (see bench.ts). `npm test` runs a
 * short batch; `npm run test:faults -- --schedules N [--seed S] [--store
 * sqlite|pg]` the long one (through the FAULT_* variables). A violating
 * schedule prints its seed and the command that replays it alone.
 */
import { appendFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FaultBench, type ScheduleResult, type StoreKind } from './bench.js';
import { FAULT_KINDS, generateSchedule, type FaultKind } from './schedule.js';

const SCHEDULES = Number(process.env.FAULT_SCHEDULES ?? 5);
const SEED = Number(process.env.FAULT_SEED ?? 1);
const STORES = (process.env.FAULT_STORE ?? 'sqlite,pg').split(',') as StoreKind[];
const REPORT = process.env.FAULT_REPORT ?? null;
/** `FAULT_KINDS=flap,cut` narrows the faults drawn (`none`: a schedule without faults). */
const KINDS: readonly FaultKind[] = process.env.FAULT_KINDS
	? (process.env.FAULT_KINDS.split(',').filter((k) => k !== 'none') as FaultKind[])
	: FAULT_KINDS;
for (const kind of KINDS) if (!FAULT_KINDS.includes(kind)) throw new Error(`FAULT_KINDS: unknown kind ${kind} (kinds: ${FAULT_KINDS.join(', ')}, none)`);

for (const store of STORES) {
	describe(`fault schedules on ${store}`, () => {
		const bench = new FaultBench(store);
		const results: ScheduleResult[] = [];
		beforeAll(() => bench.start(), 60_000);
		afterAll(async () => {
			await bench.close();
			summarize(store, results);
		}, 60_000);

		test(`${SCHEDULES} schedules from seed ${SEED}: every action once, in order, no seq gap, every view equal to the server`, async () => {
			const failures: string[] = [];
			for (let i = 0; i < SCHEDULES; i++) {
				const seed = SEED + i;
				const result = await bench.run(generateSchedule(seed, KINDS));
				results.push(result);
				if (REPORT) appendFileSync(REPORT, JSON.stringify({ store, ...result }) + '\n');
				if (result.violations.length > 0) {
					const replay = `npm run test:faults -- --schedules 1 --seed ${seed} --store ${store}`;
					const text = `schedule seed ${seed} (${store}) broke ${result.violations.length} rule(s):\n  ${result.violations.slice(0, 10).join('\n  ')}\nreplay: ${replay}`;
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
