/**
 * The default PubSub: delivers every message to this process's subscribers
 * only. A cluster swaps in another implementation (PostgreSQL LISTEN/NOTIFY)
 * behind the same interface.
 */
import type { PubSub, PubSubMessage } from './types.js';

/**
 * An in-memory PubSub. Delivery is synchronous, so a handler that broadcasts
 * and then replies puts the broadcast on the wire first, as Phoenix does.
 *
 * @example
 * const pubsub = createInProcessPubSub();
 * const server = createChannelServer({ authenticate, routes, pubsub });
 */
export function createInProcessPubSub(): PubSub {
	const handlers = new Set<(message: PubSubMessage) => void>();
	return {
		publish(message) {
			for (const handler of handlers) handler(message);
		},
		subscribe(handler) {
			handlers.add(handler);
			return () => handlers.delete(handler);
		},
		close() {
			handlers.clear();
		}
	};
}
