/**
 * The error `reason`s of the wire contract (DESIGN.md), and which of them a
 * client may retry. Every refusal the server sends uses one of these.
 */
export const REASONS = [
	'unauthorized',
	'forbidden',
	'conflict',
	'invalid',
	'rate_limited',
	'internal',
	'out_of_order'
] as const;

export type Reason = (typeof REASONS)[number];

/** Reasons that end an action for good: the lane moves on without it. */
export const PERMANENT_REASONS: ReadonlySet<Reason> = new Set([
	'unauthorized',
	'forbidden',
	'conflict',
	'invalid'
]);

/** Reasons worth another attempt later, with backoff. */
export const RETRYABLE_REASONS: ReadonlySet<Reason> = new Set(['rate_limited', 'internal', 'out_of_order']);

export function isReason(value: unknown): value is Reason {
	return typeof value === 'string' && (REASONS as readonly string[]).includes(value);
}

/** An error reply body: `{reason, message?}`. */
export interface ErrorReply {
	reason: Reason;
	message?: string;
}
