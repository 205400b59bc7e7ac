/**
 * The sentence a failed row shows (`message-error`), from the item's last
 * error. Presentation only: what to do about a failure is decided in
 * `outbox/core/reconcile.ts`.
 */
import type { ItemError } from '../outbox/index.js';

/**
 * One readable sentence for a failure, e.g. `"Not sent: you're signed out"`.
 * `action` is the queued event (`send_message`, `edit_message`, ...) so an edit
 * or delete is not described as a send.
 *
 * @example
 * failureText({ reason: 'invalid', verdict: 'fail', message: 'body: body is empty', at: 0 }) // "Not sent: body is empty"
 */
export function failureText(error: ItemError | null, action: string = 'send_message'): string {
	const lead = LEADS[action] ?? 'Not sent';
	if (!error) return `${lead}.`;
	if (error.reason === 'conflict') return `Not applied: ${failureReason(error)}`;
	return `${lead}: ${failureReason(error)}`;
}

/**
 * Just the why of a failure, without the lead: what a screen reader hears
 * after "Failed: " (`announcements.ts`).
 *
 * @example
 * failureReason({ reason: 'timeout', verdict: 'retry', at: 0 }) // "the server didn't answer in time"
 */
export function failureReason(error: ItemError | null): string {
	if (!error) return 'no reason given';
	switch (error.reason) {
		case 'invalid':
			return serverWords(error.message) ?? 'the message was refused';
		case 'forbidden':
			return "you're not allowed to do that here";
		case 'unauthorized':
			return "you're signed out";
		case 'conflict':
			return 'the message changed or was deleted meanwhile';
		case 'rate_limited':
			return 'too many messages at once — try again in a moment';
		case 'internal':
			return 'the server had a problem — try again';
		case 'timeout':
			return "the server didn't answer in time";
		case 'closed':
			return 'the connection was lost';
		default:
			return serverWords(error.message) ?? error.reason;
	}
}

const LEADS: Readonly<Record<string, string>> = {
	send_message: 'Not sent',
	edit_message: 'Edit not saved',
	delete_message: 'Not deleted'
};

/** The server's own explanation without the schema path (`"body: body is empty"` -> `"body is empty"`). */
function serverWords(message: string | undefined): string | null {
	const text = message?.replace(/^[\w.]+: /, '').trim();
	return text ? text : null;
}
