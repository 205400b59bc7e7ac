/**
 * The connection store's value, derived from two sources: the transport's
 * socket status and the browser's connectivity. The browser wins when it is
 * sure (an `offline` event means disconnected now, whatever the socket still
 * believes); otherwise the socket says. Pure: the engine feeds it.
 *
 *   offline event ───────────────────────────────> disconnected {reason: 'offline'}
 *   socket connecting ───> connecting ──socket open──> connected (lastConnectedAt = now)
 *   token refused ─────────────────────────────────> disconnected {reason: 'unauthorized'}
 *   connected ──socket lost──> connecting / disconnected (wasDisconnected = true from now on)
 */
import type { ConnectivityState, TransportStatus } from '../ports.js';

/** DESIGN.md's connection store value. */
export interface ConnectionState {
	status: 'connected' | 'connecting' | 'disconnected';
	/** A connection was up and has been lost at least once (stays true after a reconnect: "back online"). */
	wasDisconnected: boolean;
	/** Clock time the last connection opened, null before the first one. */
	lastConnectedAt: number | null;
	/** Why it is down, when known: the browser is offline, or the server refused the token. */
	reason?: 'offline' | 'unauthorized';
}

export const INITIAL_CONNECTION: ConnectionState = Object.freeze({
	status: 'disconnected',
	wasDisconnected: false,
	lastConnectedAt: null
});

/**
 * The next connection value. Returns `previous` itself when nothing changed,
 * so a store can skip notifying.
 *
 * @example
 * deriveConnection(INITIAL_CONNECTION, { status: 'connected' }, { online: true, visible: true }, 1000)
 * // { status: 'connected', wasDisconnected: false, lastConnectedAt: 1000 }
 */
export function deriveConnection(
	previous: ConnectionState,
	transport: TransportStatus,
	connectivity: ConnectivityState,
	now: number
): ConnectionState {
	let status: ConnectionState['status'];
	let reason: ConnectionState['reason'];
	if (!connectivity.online) {
		status = 'disconnected';
		reason = 'offline';
	} else if (transport.status === 'disconnected') {
		status = 'disconnected';
		if (transport.reason === 'unauthorized') reason = 'unauthorized';
	} else {
		status = transport.status;
	}
	if (status === previous.status && reason === previous.reason) return previous;
	const next: ConnectionState = {
		status,
		wasDisconnected: previous.wasDisconnected || previous.status === 'connected',
		lastConnectedAt: status === 'connected' ? now : previous.lastConnectedAt
	};
	if (reason !== undefined) next.reason = reason;
	return next;
}
