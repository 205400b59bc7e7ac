/** Builders shared by the outbox unit tests. */
import type { Message } from '../../../src/lib/protocol/message.js';
import type { QueueItem } from '../../../src/lib/outbox/core/queue-item.js';
import { createQueueItem } from '../../../src/lib/outbox/core/queue-item.js';

let counter = 0;

/** A queued item; ids sort in creation order (`createdAt` then a counter). */
export function item(overrides: Partial<QueueItem> & { topic?: string } = {}): QueueItem {
	counter++;
	const createdAt = overrides.createdAt ?? 1000 + counter;
	const base = createQueueItem({
		id: overrides.id ?? `id${String(counter).padStart(6, '0')}`,
		type: overrides.type ?? 'send_message',
		topic: overrides.topic ?? 'room:lobby',
		payload: { body: `text ${counter}` },
		createdAt
	});
	return { ...base, ...overrides, createdAt };
}

export const ME = { id: 'u1', name: 'Ann' };
export const OTHER = { id: 'u2', name: 'Bob' };

/** A confirmed message from the server. */
export function message(overrides: Partial<Message> & { seq: number }): Message {
	return {
		id: `m${overrides.seq}`,
		client_id: `c${overrides.seq}`,
		room: 'lobby',
		author: ME,
		body: `body ${overrides.seq}`,
		version: 1,
		deleted: false,
		inserted_at: '2026-01-01T00:00:00.000Z',
		updated_at: '2026-01-01T00:00:00.000Z',
		...overrides
	};
}

/** A random source that replays `values` in a loop. */
export function sequence(...values: number[]): () => number {
	let i = 0;
	return () => values[i++ % values.length] as number;
}
