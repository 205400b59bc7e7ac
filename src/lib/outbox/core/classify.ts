/**
 * Error classification: what an error reply from the server means for the
 * action that got it. The kit talks to any Phoenix server, whose error
 * replies need not look like Outbox's own `{reason, message?}`; an app
 * passes its own `classify` (option of `createOutbox`) and the rest of the
 * kit only ever reads the verdict. This file is the one place that decides
 * permanent versus retryable.
 *
 * Verdicts (what the reconcile table in `reconcile.ts` does with each):
 * - `retry`: a passing fault (rate limit, server error): try again with
 *   backoff, the lane waits; after `maxRetries` the item fails, kept.
 * - `fail`: the server refused this action for good (bad payload): the item
 *   fails at once, kept with its text and its effect shown as failed.
 * - `rollback`: refused for good and its effect must go (not allowed): the
 *   item fails at once, kept, its optimistic effect undone.
 * - `conflict`: the server's state moved on: the topic is synced and the item
 *   fails, kept, with the fresh state shown.
 * - `unauthorized`: the session is no good: the item fails, rolled back,
 *   and the kit stops sending until the user signs in again.
 */

/** What an error reply means for its action (see the file comment). */
export type Verdict = 'retry' | 'fail' | 'rollback' | 'conflict' | 'unauthorized';

export const VERDICTS: readonly Verdict[] = ['retry', 'fail', 'rollback', 'conflict', 'unauthorized'];

/** A classified error reply. `reason` and `message` are what the UI shows. */
export interface Classification {
	verdict: Verdict;
	/** A short machine word for why (`invalid`, `forbidden`, or the app's own). */
	reason: string;
	/** A sentence for people, when the server gave one (or one made from the reply). */
	message?: string;
}

/** Maps any error reply payload to a verdict. Must not throw; must be pure. */
export type ErrorClassifier = (reply: unknown) => Classification;

/** Outbox's own reasons (the wire contract's reason table) and their verdicts. */
export const REASON_VERDICTS: Readonly<Record<string, Verdict>> = Object.freeze({
	unauthorized: 'unauthorized',
	forbidden: 'rollback',
	conflict: 'conflict',
	invalid: 'fail',
	rate_limited: 'retry',
	internal: 'retry',
	// A pipelined batch refused because the one before it failed: nothing ran (the send loop requeues it, uncharged).
	out_of_order: 'retry'
});

/**
 * The default classifier: the contract's reason table for `{reason}` replies;
 * any other error reply (an Ecto-style `{errors: {...}}`, a bare string) is
 * the server's verdict on this action, which a retry of the same payload
 * would only repeat, so it fails for good (`reason` is the reply's own
 * `reason` string when it has one, else `rejected`), with a message made
 * from the reply so the UI can say why.
 *
 * @example
 * defaultClassify({ reason: 'rate_limited' })              // { verdict: 'retry', reason: 'rate_limited' }
 * defaultClassify({ errors: { title: ["can't be blank"] } }) // { verdict: 'fail', reason: 'rejected', message: "title: can't be blank" }
 */
export const defaultClassify: ErrorClassifier = (reply) => {
	const body = reply !== null && typeof reply === 'object' ? (reply as Record<string, unknown>) : {};
	const reason = typeof body.reason === 'string' && body.reason !== '' ? body.reason : null;
	const verdict = reason === null ? undefined : REASON_VERDICTS[reason];
	const message = describeErrorReply(reply);
	const result: Classification = { verdict: verdict ?? 'fail', reason: reason ?? 'rejected' };
	if (message !== undefined) result.message = message;
	return result;
};

const MAX_MESSAGE = 300;

/**
 * A sentence from an error reply: its `message` string, else its Ecto-style
 * `errors` (`{field: [msg]}` as `field: msg; ...`), else a bare string reply,
 * else nothing (the reason alone says it). Bounded to 300 characters.
 */
export function describeErrorReply(reply: unknown): string | undefined {
	if (typeof reply === 'string') return clip(reply);
	if (reply === null || typeof reply !== 'object') return undefined;
	const body = reply as Record<string, unknown>;
	if (typeof body.message === 'string' && body.message !== '') return clip(body.message);
	const errors = body.errors;
	if (errors && typeof errors === 'object' && !Array.isArray(errors)) {
		const parts = Object.entries(errors as Record<string, unknown>).map(([field, value]) => {
			const texts = Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : typeof value === 'string' ? [value] : [];
			return texts.length > 0 ? `${field}: ${texts.join(', ')}` : field;
		});
		if (parts.length > 0) return clip(parts.join('; '));
	}
	if (Array.isArray(errors)) {
		const texts = errors.filter((v): v is string => typeof v === 'string');
		if (texts.length > 0) return clip(texts.join('; '));
	}
	return undefined;
}

/** The classifier's answer, checked (a broken custom classifier fails the item rather than the engine). */
export function classifyReply(classify: ErrorClassifier, reply: unknown): Classification {
	try {
		const result = classify(reply);
		if (result && VERDICTS.includes(result.verdict) && typeof result.reason === 'string') return result;
		return { verdict: 'fail', reason: 'rejected', message: 'the error classifier returned no verdict' };
	} catch (error) {
		return { verdict: 'fail', reason: 'rejected', message: `the error classifier threw: ${error instanceof Error ? error.message : String(error)}` };
	}
}

function clip(text: string): string {
	return text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE - 1)}…` : text;
}
