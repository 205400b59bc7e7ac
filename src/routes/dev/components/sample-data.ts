/**
 * Deterministic sample rows for the component gallery (`/dev/components`):
 * view rows built the way `buildView` builds them, without a server.
 */
import type { ViewMessage } from '$lib/chat';
import type { ItemError, QueueItem } from '$lib/outbox';
import type { Message, User } from '$lib/protocol/message.js';

export const ME: User = { id: 'u1ada', name: 'Ada Lovelace' };
export const PEOPLE: readonly User[] = [
	{ id: 'u2grace', name: 'Grace Hopper' },
	{ id: 'u3alan', name: 'Alan Turing' },
	{ id: 'u4kath', name: 'Katherine Johnson' },
	ME
];

/** 14 March 2025, 09:00 UTC: every sample time counts from here. */
const T0 = Date.UTC(2025, 2, 14, 9, 0, 0);

export function confirmedRow(seq: number, author: User, body: string, extra: Partial<Message> = {}): ViewMessage {
	const at = new Date(T0 + seq * 47_000).toISOString();
	const message: Message = {
		id: `m${seq}`,
		client_id: `c${seq}`,
		room: 'lobby',
		author,
		body,
		seq,
		version: 1,
		deleted: false,
		inserted_at: at,
		updated_at: at,
		...extra
	};
	return {
		key: `${author.id}/${message.client_id}`,
		clientId: message.client_id,
		id: message.id,
		seq: message.seq,
		author,
		body: message.body,
		deleted: message.deleted,
		status: 'sent',
		error: null,
		message,
		item: null
	};
}

export function pendingSend(clientId: string, body: string, minutesAfter: number, error: ItemError | null = null): ViewMessage {
	const item: QueueItem = {
		id: clientId,
		type: 'send_message',
		topic: 'room:lobby',
		payload: { client_id: clientId, body },
		createdAt: T0 + minutesAfter * 60_000,
		attempts: error ? 1 : 0,
		status: error ? 'failed' : 'queued',
		lastError: error,
		nextAttemptAt: null
	};
	return {
		key: `${ME.id}/${clientId}`,
		clientId,
		id: null,
		seq: null,
		author: ME,
		body,
		deleted: false,
		status: error ? 'failed' : 'pending',
		error,
		message: null,
		item
	};
}

/** A confirmed row of mine whose edit failed with a conflict (fresh state shown: deleted meanwhile). */
export function conflictedEdit(seq: number): ViewMessage {
	const row = confirmedRow(seq, ME, '', { deleted: true, version: 2, client_id: `c${seq}` });
	const item: QueueItem = {
		id: `edit-${seq}`,
		type: 'edit_message',
		topic: 'room:lobby',
		payload: { client_id: `edit-${seq}`, id: row.id, body: 'Updated agenda: 10:30', base_version: 1 },
		createdAt: T0 + seq * 47_000 + 5_000,
		attempts: 1,
		status: 'failed',
		lastError: { reason: 'conflict', verdict: 'conflict', at: T0 },
		nextAttemptAt: null
	};
	return { ...row, status: 'failed', error: item.lastError, item };
}

/** The short conversation of the chat mock: every state a row can be in. */
export function sampleConversation(): ViewMessage[] {
	const [grace, alan, kath] = PEOPLE as [User, User, User, User];
	return [
		confirmedRow(1, grace, 'Morning! Is the offline build ready for the demo?'),
		confirmedRow(2, ME, 'Almost. Sends are queued while offline and go out once, in order, when the socket is back.'),
		confirmedRow(3, alan, 'Nice. What happens to a message the server refuses?', { version: 2 }),
		confirmedRow(4, ME, 'It stays in the list, marked failed, with the reason and Retry / Discard.'),
		confirmedRow(5, kath, '', { deleted: true, version: 2 }),
		conflictedEdit(6),
		pendingSend('p-1', 'Sending this from the train, no signal.', 40),
		pendingSend('p-2', 'And a second one, still waiting.', 41),
		pendingSend('f-1', 'x'.repeat(90) + '… (imagine 4,001 characters here)', 42, {
			reason: 'invalid',
			verdict: 'fail',
			message: 'body: body is longer than 4000 characters',
			at: T0
		}),
		pendingSend('f-2', 'This one timed out five times.', 43, { reason: 'timeout', verdict: 'retry', at: T0 })
	];
}

const WORDS =
	'offline queue replay socket channel lane retry backoff reconcile pending confirmed cursor sync batch room message server client optimistic merge order once'.split(
		' '
	);

/** `count` confirmed rows with bodies of varied length (deterministic), seq from `firstSeq`. */
export function generatedRows(count: number, firstSeq = 1): ViewMessage[] {
	const rows: ViewMessage[] = [];
	let seed = 12345 + firstSeq;
	const next = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
	for (let i = 0; i < count; i++) {
		const seq = firstSeq + i;
		const words = 3 + Math.floor(next() ** 3 * 60);
		const body = Array.from({ length: words }, () => WORDS[Math.floor(next() * WORDS.length)]).join(' ');
		const author = PEOPLE[Math.floor(next() * PEOPLE.length)] as User;
		rows.push(confirmedRow(seq, author, `#${seq} ${body}`));
	}
	return rows;
}
