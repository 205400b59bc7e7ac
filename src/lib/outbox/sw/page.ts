/**
 * The page's half of Background Sync: ask the browser to wake the service
 * worker (tag `outbox-flush`) once the network is back, so queued actions
 * are delivered even if every tab is closed by then (`flush.ts`).
 *
 * Where Background Sync is missing (Firefox, Safari) this does nothing: the
 * tab's engine sends when it is open, as always.
 */
import type { QueueItem } from '../core/queue-item.js';
import { FLUSH_TAG } from './flush.js';
import { writeSignedInUser } from './session-marker.js';

interface SyncManagerLike {
	register(tag: string): Promise<void>;
}

/**
 * Register the `outbox-flush` sync. Resolves true when it is registered,
 * false where Background Sync (or a service worker) is unavailable or the
 * browser refused (permission).
 *
 * @example
 * await outbox.add('send_message', 'room:lobby', { body });
 * void requestBackgroundFlush();
 */
export async function requestBackgroundFlush(): Promise<boolean> {
	if (typeof navigator === 'undefined' || !('serviceWorker' in navigator)) return false;
	try {
		const registration = await navigator.serviceWorker.ready;
		const sync = (registration as ServiceWorkerRegistration & { sync?: SyncManagerLike }).sync;
		if (typeof sync?.register !== 'function') return false;
		await sync.register(FLUSH_TAG);
		return true;
	} catch {
		return false; // permission denied, or the worker went away
	}
}

/** What `watchQueueForBackgroundSync` needs of the outbox (its `subscribe`, `connection` and `user`). */
export interface WatchedOutbox {
	/** The engine's signed-in user, recorded for the worker on every change (session-marker.ts). */
	readonly user?: { id: string } | null;
	subscribe(listener: (items: readonly QueueItem[]) => void): () => void;
	connection?: { subscribe(listener: (state: { status: string }) => void): () => void };
}

/**
 * Record the engine's signed-in user for the worker (it flushes only that
 * user's queue, and nothing after a sign-out), and keep an `outbox-flush`
 * sync registered while actions wait: whenever the
 * queue holds unsent (queued or sending) items and this tab cannot send them
 * right now (not connected), and when the page is hidden or left with items
 * waiting (the tab may never come back). While connected and visible, the
 * tab's own engine sends: no registration, so the worker is not woken for
 * nothing. Returns a function that stops watching.
 *
 * @example
 * // +layout.svelte, once the outbox exists:
 * onMount(() => watchQueueForBackgroundSync(outbox));
 */
export function watchQueueForBackgroundSync(
	outbox: WatchedOutbox,
	request: () => Promise<boolean> = requestBackgroundFlush,
	recordUser: (userId: string | null) => Promise<void> = writeSignedInUser
): () => void {
	let waiting = 0;
	// A tab that starts with nobody signed in records nothing (another tab, or a
	// dev page, may be signed in); a sign-out in this tab is a change and is recorded.
	let recorded: string | null = null;
	const recordCurrentUser = () => {
		if (!('user' in outbox)) return;
		const id = outbox.user?.id ?? null;
		if (id === recorded) return;
		recorded = id;
		void recordUser(id);
	};
	let connected = false;
	let registeredFor = 0; // the waiting count the last registration covered

	const maybeRegister = (force: boolean) => {
		if (waiting === 0) {
			registeredFor = 0;
			return;
		}
		if (!force && (connected || waiting <= registeredFor)) return;
		registeredFor = waiting;
		void request();
	};

	const stops: Array<() => void> = [];
	stops.push(
		outbox.subscribe((items) => {
			// The queue is reloaded (and listeners told) on every user switch: a sign-out is seen here too.
			recordCurrentUser();
			waiting = items.filter((item) => item.status !== 'failed').length;
			maybeRegister(false);
		})
	);
	if (outbox.connection) {
		stops.push(
			outbox.connection.subscribe((state) => {
				recordCurrentUser();
				const was = connected;
				connected = state.status === 'connected';
				if (was && !connected) registeredFor = 0; // a new outage: register again
				maybeRegister(false);
			})
		);
	}
	if (typeof document !== 'undefined' && typeof addEventListener === 'function') {
		const onHidden = () => {
			if (document.visibilityState === 'hidden') maybeRegister(true);
		};
		const onPageHide = () => maybeRegister(true);
		document.addEventListener('visibilitychange', onHidden);
		addEventListener('pagehide', onPageHide);
		stops.push(
			() => document.removeEventListener('visibilitychange', onHidden),
			() => removeEventListener('pagehide', onPageHide)
		);
	}
	return () => {
		for (const stop of stops.splice(0)) stop();
	};
}
