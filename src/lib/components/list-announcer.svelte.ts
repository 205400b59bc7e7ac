/**
 * The two live regions of a MessageList, fed by the view: others' new
 * messages (`arrivals`) and the user's own actions as they settle
 * (`actions`). The rules are the pure functions of `announcements.ts`; this
 * class keeps what they need between views and groups outcomes that land
 * close together into one sentence.
 *
 * @example
 * const heard = new ListAnnouncer();
 * $effect(() => heard.update(messages, me));
 * // <div role="status" aria-live="polite">{heard.actions.text}</div>
 */
import type { ViewMessage } from '../chat/index.js';
import { Announcer } from './announcer.svelte.js';
import {
	actionsSentence,
	arrivalsSentence,
	newArrivals,
	newestSeq,
	ownRowChanges,
	type OwnChanges,
	type OwnRow
} from './announcements.js';

/** Own-action outcomes that land within this long are said in one sentence (ms). */
const SETTLE_MS = 250;

export class ListAnnouncer {
	/** Others' new messages: "Ann: …". */
	readonly arrivals = new Announcer();
	/** The user's own actions: "Sent", "Failed: <why>", "Discarded", and what the app says. */
	readonly actions = new Announcer();
	#ownRows: Map<string, OwnRow> | null = null;
	#lastSeq: number | null = null;
	#settled: OwnChanges = { sent: [], failed: [] };
	#timer: ReturnType<typeof setTimeout> | undefined;

	/** Look at a new view of the list (the first one is only learned: nothing on screen is news). */
	update(messages: readonly ViewMessage[], me: string): void {
		if (this.#lastSeq === null) this.#lastSeq = newestSeq(messages);
		else {
			const fresh = newArrivals(messages, me, this.#lastSeq);
			this.#lastSeq = fresh.newest;
			if (fresh.rows.length > 0) this.arrivals.say(arrivalsSentence(fresh.rows));
		}
		const { changes, seen } = ownRowChanges(this.#ownRows, messages, me);
		this.#ownRows = seen;
		if (changes.sent.length === 0 && changes.failed.length === 0) return;
		this.#settled.sent.push(...changes.sent);
		this.#settled.failed.push(...changes.failed);
		clearTimeout(this.#timer);
		this.#timer = setTimeout(() => {
			const sentence = actionsSentence(this.#settled);
			this.#settled = { sent: [], failed: [] };
			this.actions.say(sentence);
		}, SETTLE_MS);
	}

	dispose(): void {
		clearTimeout(this.#timer);
		this.arrivals.dispose();
		this.actions.dispose();
	}
}
