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
	| 'revoke'; // a user's token revoked mid-flush, then a sign-in again

export const FAULT_KINDS: readonly FaultKind[] = ['frames', 'lost-ack', 'sigkill', 'tab-rebuild', 'flap', 'cut', 'revoke'];

export interface Fault {
	kind: FaultKind;
	/** Applied just before this action index. */
	at: number;
	user: number;
	tab: number;
	/** `frames`: the probabilities, for `ms`. */
	frames?: FrameFaults;
	/** `frames`: the window's length; `flap`: offline for this long. */
	ms?: number;
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
	/** Tabs of each user (2 or 3). */
	tabs: number[];
	steps: Step[];
	faults: Fault[];
}

/** The schedule of `seed`. `kinds` narrows the faults drawn (default all). */
export function generateSchedule(seed: number, kinds: readonly FaultKind[] = FAULT_KINDS): Schedule {
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
	for (let i = 0; i < faultCount && kinds.length > 0; i++) {
		const kind = kinds[int(0, kinds.length - 1)] as FaultKind;
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
	faults.sort((a, b) => a.at - b.at);
	return { seed, tabs, steps, faults };
}
