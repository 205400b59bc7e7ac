/**
 * What users did against what the server holds, after a schedule:
 * - every action applied exactly once (no loss, no duplicate, nothing extra),
 * - per room, each tab's actions in the order that tab created them, save
 *   those the user retried by hand after a refused session (an
 *   author's creation order: one tab's `add` calls are ordered by the user;
 *   two tabs of one author adding at the same time have no order to keep),
 * - `seq` in each room is 1..n, no gap, no repeat,
 * - every tab's final view of each room equal to the server's.
 * Pure: returns the violations as sentences (empty: all good).
 */

export interface MadeAction {
	clientId: string;
	room: string;
	author: string;
	/** The tab instance that created it (a rebuilt tab is a new instance). */
	tab: string;
	/**
	 * It failed as `unauthorized` (the kit rolls it back and hands it to the user) and the user
	 * pressed Retry after signing in again: it goes when they retry it, so only exactly-once is
	 * checked for it, not its place among the tab's other actions.
	 */
	userRetried?: boolean;
}

export interface ServerMessage {
	client_id: string;
	seq: number;
	author: { id: string };
}

export interface TabView {
	tab: string;
	room: string;
	/** The client ids the tab shows as sent, top to bottom. */
	clientIds: string[];
}

export function checkSchedule(made: readonly MadeAction[], server: Record<string, readonly ServerMessage[]>, views: readonly TabView[]): string[] {
	const violations: string[] = [];
	const byId = new Map(made.map((action) => [action.clientId, action]));
	const seen = new Map<string, number>();
	for (const [room, messages] of Object.entries(server)) {
		messages.forEach((message, i) => {
			if (message.seq !== i + 1) violations.push(`room ${room}: seq ${message.seq} at position ${i + 1} (a gap or a repeat)`);
			seen.set(message.client_id, (seen.get(message.client_id) ?? 0) + 1);
			const action = byId.get(message.client_id);
			if (!action) violations.push(`room ${room}: message ${message.client_id} (seq ${message.seq}) was never made by a user`);
			else if (action.room !== room) violations.push(`action ${message.client_id} made in ${action.room} landed in ${room}`);
			else if (action.author !== message.author.id) violations.push(`action ${message.client_id} by ${action.author} stored as by ${message.author.id}`);
		});
	}
	for (const action of made) {
		const n = seen.get(action.clientId) ?? 0;
		if (n === 0) violations.push(`lost: action ${action.clientId} (room ${action.room}, tab ${action.tab}) is not on the server`);
		if (n > 1) violations.push(`duplicate: action ${action.clientId} applied ${n} times`);
	}
	for (const [room, messages] of Object.entries(server)) {
		const position = new Map(messages.map((m, i) => [m.client_id, i]));
		const tabs = new Map<string, string[]>();
		for (const action of made) {
			if (action.room !== room || action.userRetried) continue;
			tabs.set(action.tab, [...(tabs.get(action.tab) ?? []), action.clientId]);
		}
		for (const [tab, ids] of tabs) {
			const stored = ids.filter((id) => position.has(id)).sort((a, b) => (position.get(a) as number) - (position.get(b) as number));
			const expected = ids.filter((id) => position.has(id));
			if (stored.join() !== expected.join()) {
				violations.push(`reordered: room ${room}, tab ${tab}: created ${expected.join(' ')} but stored ${stored.join(' ')}`);
			}
		}
	}
	for (const view of views) {
		const truth = (server[view.room] ?? []).map((m) => m.client_id);
		if (view.clientIds.join() !== truth.join()) {
			violations.push(`view: tab ${view.tab} shows room ${view.room} as [${view.clientIds.join(' ')}], the server holds [${truth.join(' ')}]`);
		}
	}
	return violations;
}
