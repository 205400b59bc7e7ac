/**
 * Two small helpers for the page around a queue: a `beforeunload` guard
 * while actions wait (nothing is lost — the queue is stored — but it is not
 * sent until the app is open again), and the tab title with the count of
 * waiting actions, `(3) Groceries`.
 */
import type { Unsubscribe } from '../ports.js';

/** What the guard needs of an outbox: who is signed in and how many items wait. */
export interface UnloadGuarded {
	readonly user: unknown;
	readonly count: number;
}

/** Where the guard listens (a window, or a stand-in in tests). */
export interface UnloadTarget {
	addEventListener(type: 'beforeunload', listener: (event: BeforeUnloadEvent) => void): void;
	removeEventListener(type: 'beforeunload', listener: (event: BeforeUnloadEvent) => void): void;
}

/**
 * Ask the browser to confirm leaving while a signed-in user has actions in
 * the queue. Returns the function that stops guarding.
 *
 * @example
 * onMount(() => guardUnload(outbox));
 */
export function guardUnload(outbox: UnloadGuarded, target: UnloadTarget | undefined = globalThis as unknown as UnloadTarget): Unsubscribe {
	if (typeof target?.addEventListener !== 'function') return () => {};
	const listener = (event: BeforeUnloadEvent) => {
		if (outbox.user === null || outbox.count === 0) return;
		event.preventDefault();
		// Older browsers need a returnValue to show the prompt.
		event.returnValue = '';
	};
	target.addEventListener('beforeunload', listener);
	return () => target.removeEventListener('beforeunload', listener);
}

/**
 * The tab title with the waiting count in front, when there is one.
 *
 * @example
 * <svelte:head><title>{pendingTitle('#lobby · Outbox', queue.count)}</title></svelte:head>
 */
export function pendingTitle(title: string, count: number): string {
	return count > 0 ? `(${count}) ${title}` : title;
}
