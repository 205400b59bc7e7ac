/**
 * Seeded fault schedules: the same seed always gives the same schedule (who
 * does what, in which room, from which tab, and which fault lands before
 * which action). Pure: no I/O.
 */
import { seededRandom } from '../../src/lib/outbox/testing/seeded-random.js';
import type { FrameFaults } from './fault-proxy.js';

export const ROOM_COUNT = 3;

export type FaultKind =
	| 'frames' // drop / duplicate / delay / reorder frames for a window of actions
	| 'lost-ack' // the next action reply is lost: the server committed, the connection dies
	| 'sigkill' // SIGKILL the server as the next action push arrives, restart it on the same data
	| 'tab-rebuild' // a tab torn down mid-flush and rebuilt from storage
	| 'flap' // a tab goes offline for a while, then online again
	| 'cut' // every connection cut (no close frame)
	| 'revoke' // a user's token revoked mid-flush, then a sign-in again
	| 'freeze' // the user's leader tab frozen as its next action push leaves, past its lease, then resumed
	| 'node-kill'; // one server node of a cluster SIGKILLed as the next action push reaches it, restarted

/** The kinds every schedule may draw, from the schedule's main stream (their draws are unchanged since the first long run). */
export const BASE_KINDS: readonly FaultKind[] = ['frames', 'lost-ack', 'sigkill', 'tab-rebuild', 'flap', 'cut', 'revoke'];
/**
 * Kinds added later, drawn from a second seeded stream, so a seed still draws the same actions
 * and the same base faults as before (plus these). `node-kill` only with 2–3 server nodes.
 */
export const EXTRA_KINDS: readonly FaultKind[] = ['freeze', 'node-kill'];
export const FAULT_KINDS: readonly FaultKind[] = [...BASE_KINDS, ...EXTRA_KINDS];

/** The leader's lease in the schedules' tabs, ms (a frozen leader stays frozen longer than this). */
export const LEASE_MS = 300;

export interface Fault {
	kind: FaultKind;
	/** Applied just before this action index. */
	at: number;
	user: number;
	tab: number;
	/** `frames`: the probabilities, for `ms`. */
	frames?: FrameFaults;
	/** `frames`: the window's length; `flap`: offline for this long; `freeze`: frozen for this long. */
	ms?: number;
	/** `node-kill`: which node (0-based). */
	node?: number;
}

export interface Step {
	user: number;
	tab: number;
	room: number;
	/** Pause after this action, ms. */
	pauseMs: number;
}

export interface Schedule {
	seed: number;
	/** Server nodes (1: one server; 2–3: a PostgreSQL cluster behind the proxy). */
	nodes: number;
	/** Tabs of each user (2 or 3). */
	tabs: number[];
	steps: Step[];
	faults: Fault[];
}

/**
 * The schedule of `seed`. `kinds` narrows the faults drawn (default all); `nodes` is how many
 * server nodes run it (`node-kill` is drawn only with more than one).
 */
export function generateSchedule(seed: number, kinds: readonly FaultKind[] = FAULT_KINDS, nodes = 1): Schedule {
	const base = BASE_KINDS.filter((k) => kinds.includes(k));
	const extra = EXTRA_KINDS.filter((k) => kinds.includes(k) && (k !== 'node-kill' || nodes > 1));
	const random = seededRandom(seed);
	const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
	const users = int(1, 2);
	const tabs = Array.from({ length: users }, () => int(2, 3));
	const count = int(20, 45);
	const steps: Step[] = [];
	for (let i = 0; i < count; i++) {
		const user = int(0, users - 1);
		steps.push({ user, tab: int(0, (tabs[user] as number) - 1), room: int(0, ROOM_COUNT - 1), pauseMs: random() < 0.3 ? int(0, 25) : 0 });
	}
	const faults: Fault[] = [];
	const faultCount = int(2, 5);
	for (let i = 0; i < faultCount && base.length > 0; i++) {
		const kind = base[int(0, base.length - 1)] as FaultKind;
		const user = int(0, users - 1);
		const fault: Fault = { kind, at: int(1, count - 1), user, tab: int(0, (tabs[user] as number) - 1) };
		if (kind === 'frames') {
			fault.ms = int(200, 1500);
			fault.frames = {
				drop: random() * 0.06,
				dup: random() * 0.1,
				delay: random() * 0.1,
				reorder: random() * 0.1,
				maxDelayMs: int(10, 300)
			};
		}
		if (kind === 'flap') fault.ms = int(20, 400);
		faults.push(fault);
	}
	// The later kinds, from their own stream: 0–1 of them beside the base kinds (1–2 on a cluster), 1–2 alone.
	const random2 = seededRandom((seed ^ 0x9e3779b9) >>> 0);
	const int2 = (min: number, max: number) => min + Math.floor(random2() * (max - min + 1));
	const extraCount = extra.length === 0 ? 0 : base.length > 0 && nodes === 1 ? int2(0, 1) : int2(1, 2);
	for (let i = 0; i < extraCount; i++) {
		const kind = extra[int2(0, extra.length - 1)] as FaultKind;
		const user = int2(0, users - 1);
		const fault: Fault = { kind, at: int2(1, count - 1), user, tab: int2(0, (tabs[user] as number) - 1) };
		if (kind === 'freeze') fault.ms = int2(2 * LEASE_MS, 2000);
		if (kind === 'node-kill') fault.node = int2(0, nodes - 1);
		faults.push(fault);
	}
	faults.sort((a, b) => a.at - b.at);
	return { seed, nodes, tabs, steps, faults };
}
