/**
 * A room the server refuses to join (a direct conversation of two other
 * people: `forbidden`) must say so instead of loading forever. The phoenix
 * transport remembers why it left a refused join (`joinError`); this watches
 * it through the transport port the engine runs on.
 */
import type { ErrorReply } from '../protocol/reasons.js';
import type { Transport } from '../outbox/ports.js';
import type { Outbox } from '../outbox/runtime/index.js';

interface RefusalAware extends Transport {
	joinError?: (topic: string) => ErrorReply | null;
}

/** Calls `refused` when (and if already) the join of `topic` was refused for good. Returns the stop function. */
export function watchJoinRefusal(outbox: Outbox, topic: string, refused: (reply: ErrorReply) => void): () => void {
	const transport = outbox.deps.transport as RefusalAware;
	const joinError = transport.joinError;
	if (typeof joinError !== 'function') return () => {};
	const check = () => {
		const reply = joinError.call(transport, topic);
		if (reply) refused(reply);
	};
	check();
	return transport.subscribeChannel(topic, check);
}
