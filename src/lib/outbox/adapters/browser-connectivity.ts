/**
 * The `Connectivity` port in the browser: `navigator.onLine` with the window's
 * `online`/`offline` events, and `document.visibilityState` with
 * `visibilitychange`. Like TanStack Query's `onlineManager`, it touches no
 * global at import time and listens only while someone subscribes; where
 * there is no window (SSR, Node) it says online and visible, always.
 *
 * `online: false` is certain (the browser has no network); `online: true` is
 * only a hope, so the transport's own status still decides "connected".
 */
import type { Connectivity, ConnectivityState, Unsubscribe } from '../ports.js';

/** The globals this adapter reads: a window, or a stand-in for tests. */
export interface ConnectivityTarget {
	navigator?: { onLine?: boolean };
	document?: {
		visibilityState?: string;
		addEventListener?(type: string, listener: () => void): void;
		removeEventListener?(type: string, listener: () => void): void;
	};
	addEventListener?(type: string, listener: () => void): void;
	removeEventListener?(type: string, listener: () => void): void;
}

/**
 * Browser connectivity.
 *
 * @example
 * const connectivity = createBrowserConnectivity();
 * const stop = connectivity.subscribe(({ online }) => {
 *   if (online) transport.reconnectNow();
 * });
 */
export function createBrowserConnectivity(target: ConnectivityTarget = globalThis as ConnectivityTarget): Connectivity {
	const listeners = new Set<(state: ConnectivityState) => void>();
	/** While subscribed: the state last reported. */
	let last: ConnectivityState | null = null;

	const isOnline = () => target.navigator?.onLine !== false;
	const isVisible = () => target.document?.visibilityState !== 'hidden';

	const report = (state: ConnectivityState) => {
		if (last && last.online === state.online && last.visible === state.visible) return;
		last = state;
		for (const listener of [...listeners]) listener(state);
	};
	// The events say which way the network went, even where `navigator.onLine` lags behind them.
	const wentOnline = () => report({ online: true, visible: isVisible() });
	const wentOffline = () => report({ online: false, visible: isVisible() });
	const visibilityChanged = () => report({ online: last?.online ?? isOnline(), visible: isVisible() });

	const start = () => {
		last = { online: isOnline(), visible: isVisible() };
		target.addEventListener?.('online', wentOnline);
		target.addEventListener?.('offline', wentOffline);
		target.document?.addEventListener?.('visibilitychange', visibilityChanged);
	};
	const stop = () => {
		target.removeEventListener?.('online', wentOnline);
		target.removeEventListener?.('offline', wentOffline);
		target.document?.removeEventListener?.('visibilitychange', visibilityChanged);
		last = null;
	};

	return {
		current: () => last ?? { online: isOnline(), visible: isVisible() },
		subscribe(listener): Unsubscribe {
			if (listeners.size === 0) start();
			listeners.add(listener);
			return () => {
				if (!listeners.delete(listener)) return;
				if (listeners.size === 0) stop();
			};
		}
	};
}
