/**
 * A room the server refuses to join (a direct conversation of two other
 * people: `forbidden`) must say so instead of loading forever. The kit
 * keeps the reply of a join refused for good (`topic.joinError`); this
 * watches it.
 */
import type { Topic } from '../outbox/index.js';

/** Calls `refused` with the refusal's reason when (and if already) the join of `topic` was refused for good. Returns the stop function. */
export function watchJoinRefusal(topic: Topic, refused: (reason: string) => void): () => void {
	const check = () => {
		const reply = topic.joinError as { reason?: unknown } | null;
		if (reply) refused(typeof reply.reason === 'string' ? reply.reason : 'refused');
	};
	check();
	return topic.onState(check);
}
