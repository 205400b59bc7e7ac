/**
 * What the components say through their live regions, decided here as pure
 * functions so the rules read in one place (and are unit-tested):
 *
 * - connection: a change is spoken only around a real outage (never the
 *   first connect of a page load);
 * - the user's own actions: "Sent" / "Failed: <why>" when a row of theirs
 *   settles, never the row's whole text;
 * - others' new messages: author and the first words only.
 *
 * Nothing here runs per keystroke: every input is a change of the view.
 */
import type { ViewMessage } from '../chat/index.js';
import { EVENTS } from '../protocol/events.js';
import type { ItemError } from '../outbox/index.js';
import { failureReason } from './failure-text.js';

// ---- connection --------------------------------------------------------

/** The banner's state: null while connected. */
export type ConnectionKind = 'offline' | 'reconnecting' | 'signed-out' | null;

/** What the connection announcer remembers between changes. */
export interface ConnectionMemory {
	/** The banner state last seen; `undefined` before the first one. */
	kind: ConnectionKind | undefined;
	/** A connection was up since the page (or this banner) started. */
	connectedOnce: boolean;
	/** Down for a reason the user should hear about; "Back online." ends it. */
	outage: boolean;
}

export const NO_CONNECTION_MEMORY: ConnectionMemory = Object.freeze({ kind: undefined, connectedOnce: false, outage: false });

/** Spoken when a real outage ends. */
export const BACK_ONLINE = 'Back online.';

/**
 * One step of the connection announcer. `say` is the banner's sentence for
 * the new state (passed in so the words live with the banner). Returns what
 * to speak, or null.
 *
 * - the first state is never spoken (it is no change); being offline or
 *   signed out at start still counts as an outage, as does a banner that
 *   starts while `wasDisconnected` (a room opened mid-outage);
 * - connecting at page load, then connected: silent;
 * - down after having been connected, or offline / signed out at any time:
 *   spoken, and the outage is on;
 * - connected after an outage: "Back online.".
 *
 * @example
 * let memory = NO_CONNECTION_MEMORY;
 * ({ memory } = connectionStep(memory, 'reconnecting', 'Reconnecting…'));      // say: null (page load)
 * ({ memory } = connectionStep(memory, null, ''));                              // say: null
 * connectionStep(memory, 'offline', "You're offline — …").say                  // "You're offline — …"
 */
export function connectionStep(
	memory: ConnectionMemory,
	kind: ConnectionKind,
	sentence: string,
	wasDisconnected = false
): { memory: ConnectionMemory; say: string | null } {
	if (memory.kind === kind) return { memory, say: null };
	const alarming = kind === 'offline' || kind === 'signed-out';
	if (memory.kind === undefined) {
		return {
			memory: { kind, connectedOnce: kind === null, outage: kind !== null && (alarming || wasDisconnected) },
			say: null
		};
	}
	if (kind === null) {
		return { memory: { kind, connectedOnce: true, outage: false }, say: memory.outage ? BACK_ONLINE : null };
	}
	if (memory.outage || memory.connectedOnce || alarming) {
		return { memory: { ...memory, kind, outage: true }, say: sentence };
	}
	return { memory: { ...memory, kind }, say: null };
}

// ---- the user's own actions ---------------------------------------------

/** An own row as last seen: its status and the action behind it. */
export interface OwnRow {
	status: ViewMessage['status'];
	action: string;
}

/** Own rows that settled since the last look. */
export interface OwnChanges {
	/** The action types confirmed (pending -> sent). */
	sent: string[];
	/** The failures (pending or sent -> failed, or a row that appeared failed: refused before it was queued). */
	failed: { action: string; error: ItemError | null }[];
}

/**
 * Compare the user's own rows with how they were. `previous === null` (the
 * first look) only learns the rows: nothing already on screen is news.
 * Returns the changes and the memory for next time (own rows only, so a
 * long history of others' messages costs nothing to keep).
 *
 * @example
 * let seen = null;
 * ({ seen } = ownRowChanges(seen, view, me.id));
 * const { changes } = ownRowChanges(seen, nextView, me.id); // changes.sent: ['send_message']
 */
export function ownRowChanges(
	previous: ReadonlyMap<string, OwnRow> | null,
	messages: readonly ViewMessage[],
	me: string
): { changes: OwnChanges; seen: Map<string, OwnRow> } {
	const seen = new Map<string, OwnRow>();
	const changes: OwnChanges = { sent: [], failed: [] };
	for (const row of messages) {
		if (row.author.id !== me) continue;
		const before = previous?.get(row.key);
		const action = row.item?.type ?? before?.action ?? EVENTS.sendMessage;
		seen.set(row.key, { status: row.status, action });
		if (!previous || before?.status === row.status) continue;
		if (row.status === 'failed' && (before === undefined || before.status !== 'failed')) {
			changes.failed.push({ action, error: row.error });
		} else if (row.status === 'sent' && before?.status === 'pending') {
			changes.sent.push(action);
		}
	}
	return { changes, seen };
}

const SETTLED: Readonly<Record<string, string>> = {
	[EVENTS.sendMessage]: 'Sent',
	[EVENTS.editMessage]: 'Edit saved',
	[EVENTS.deleteMessage]: 'Deleted'
};

/**
 * The sentence for settled own actions: "Sent" (or "Edit saved",
 * "Deleted"), "Sent 3 messages", "Failed: <why>", "2 failed: <why of the
 * first>"; both joined when both happened. Empty when nothing settled.
 * The row's text is never part of it (a 4,001-character message is not
 * read out).
 *
 * @example
 * actionsSentence({ sent: ['send_message'], failed: [] }) // "Sent"
 */
export function actionsSentence(changes: OwnChanges): string {
	const parts: string[] = [];
	const { sent, failed } = changes;
	if (sent.length === 1) parts.push(SETTLED[sent[0]!] ?? 'Sent');
	else if (sent.length > 1) {
		const allSends = sent.every((action) => action === EVENTS.sendMessage);
		parts.push(`Sent ${sent.length} ${allSends ? 'messages' : 'changes'}`);
	}
	const first = failed[0];
	if (first) {
		const why = failureReason(first.error);
		parts.push(failed.length === 1 ? `Failed: ${why}` : `${failed.length} failed: ${why}`);
	}
	return parts.join('. ');
}

// ---- others' new messages ------------------------------------------------

/** How much of a new message's text is read out. */
export const ARRIVAL_CHARS = 200;

/**
 * Others' messages newer than `afterSeq` (confirmed, so `seq` orders them),
 * oldest first, and the newest seq seen. Older messages loaded by scrolling
 * have lower seqs and never count.
 *
 * @example
 * const { rows, newest } = newArrivals(view, me.id, lastSeq);
 */
export function newArrivals(
	messages: readonly ViewMessage[],
	me: string,
	afterSeq: number
): { rows: ViewMessage[]; newest: number } {
	const rows: ViewMessage[] = [];
	let newest = afterSeq;
	for (let i = messages.length - 1; i >= 0; i--) {
		const row = messages[i]!;
		if (row.seq === null) continue;
		if (row.seq <= afterSeq) break;
		newest = Math.max(newest, row.seq);
		if (row.author.id !== me) rows.unshift(row);
	}
	return { rows, newest };
}

/** The newest confirmed seq in the view (0 when none). */
export function newestSeq(messages: readonly ViewMessage[]): number {
	for (let i = messages.length - 1; i >= 0; i--) {
		const seq = messages[i]!.seq;
		if (seq !== null) return seq;
	}
	return 0;
}

/**
 * "Ann: the first 200 characters…", or "3 new messages. Last, Ann: …".
 *
 * @example
 * arrivalsSentence([row]) // "Grace Hopper: Shipping it now"
 */
export function arrivalsSentence(rows: readonly ViewMessage[]): string {
	const last = rows.at(-1);
	if (!last) return '';
	const text = last.deleted ? 'Message deleted' : clip(last.body, ARRIVAL_CHARS);
	const line = `${last.author.name}: ${text}`;
	return rows.length === 1 ? line : `${rows.length} new messages. Last, ${line}`;
}

function clip(text: string, max: number): string {
	const chars = [...text];
	return chars.length <= max ? text : `${chars.slice(0, max).join('').trimEnd()}…`;
}
