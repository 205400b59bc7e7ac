/**
 * "Retry now": open a new connection at once instead of waiting for the
 * socket's backoff. The engine does this by itself on the browser's `online`
 * event; the banner's button asks for the same thing by hand, through the
 * transport port the engine runs on (`outbox.deps.transport`).
 */
import type { Transport } from '../outbox/ports.js';
import type { Outbox } from '../outbox/runtime/index.js';

/** What the phoenix transport adds to the port (see `adapters/phoenix-transport.ts`). */
interface Reconnectable extends Transport {
	reconnectNow?: () => void;
}

export function reconnectNow(outbox: Outbox): void {
	if (!outbox.user) return;
	const transport = outbox.deps.transport as Reconnectable;
	const status = transport.status();
	if (status.status === 'connected') return;
	// A refused token stays refused: only signing in again helps.
	if (status.status === 'disconnected' && status.reason === 'unauthorized') return;
	if (typeof transport.reconnectNow === 'function') return transport.reconnectNow();
	transport.disconnect();
	transport.connect();
}
