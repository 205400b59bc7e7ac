/**
 * One flow, two kinds of driver. The store's rules (`rules.ts`) are written
 * once as generator functions that `yield*` the driver's queries. A
 * synchronous driver (better-sqlite3, whose transactions must not await)
 * answers every query at once and runs the flow with `runSync`; an
 * asynchronous one (`pg`) yields each query's promise and runs the flow with
 * `runAsync`. This is the pattern Babel's `gensync` uses, kept to the two
 * functions we need.
 *
 * @example
 * function* unread(q: Queries, room: string, user: string): Step<boolean> {
 *   return (yield* q.unreadCount(room, user)) > 0;
 * }
 * runSync(unread(sqliteQueries, 'lobby', 'ada'));        // SQLite: no promise ever
 * await runAsync(unread(pgQueries(pool), 'lobby', 'ada')); // PostgreSQL
 */

/** A computation that may pause on promises (async drivers) and returns `T`. */
export type Step<T> = Generator<Promise<unknown>, T, unknown>;

/** A query step of an asynchronous driver: pauses on the promise, resumes with its value. */
export function* wait<T>(promise: Promise<T>): Step<T> {
	return (yield promise) as T;
}

/** A query step of a synchronous driver: the value, with no pause. */
export function* done<T>(value: T): Step<T> {
	return value;
}

/**
 * Run a flow whose queries all answer at once (inside a better-sqlite3
 * transaction). Throws when a query paused: that driver is not synchronous.
 */
export function runSync<T>(step: Step<T>): T {
	const next = step.next();
	if (!next.done) {
		void step.return(undefined as T);
		throw new TypeError('runSync: a query returned a promise; run this driver with runAsync');
	}
	return next.value;
}

/** Run a flow whose queries pause on promises; a rejected query is thrown back into the flow. */
export async function runAsync<T>(step: Step<T>): Promise<T> {
	let next = step.next();
	while (!next.done) {
		let value: unknown;
		try {
			value = await next.value;
		} catch (error) {
			next = step.throw(error);
			continue;
		}
		next = step.next(value);
	}
	return next.value;
}
