/** One benchmark case as BENCHMARKS.md shows it, shared by every bench/*.ts (bench/run.js collects them). */
export interface Result {
	name: string;
	messages: number;
	seconds: number;
	perSecond: number;
	/** A peer's time per action over the kit's, for the same measure (bench/kit-browser.ts). */
	vsKit?: number;
}

/** Make (and print) the result of `messages` handled in `ms`. */
export function result(name: string, messages: number, ms: number): Result {
	const seconds = ms / 1000;
	const made: Result = { name, messages, seconds: +seconds.toFixed(3), perSecond: Math.round(messages / seconds) };
	console.log(`${name.padEnd(64)} ${String(made.perSecond).padStart(8)} msg/s  (${messages} in ${made.seconds} s)`);
	return made;
}
