/** Room names typed by a person, turned into room slugs (`[a-z0-9-]{1,40}`). */
import { LIMITS, SLUG_RE } from '../protocol/events.js';

/**
 * Lowercase, whitespace runs to `-`, every other character outside
 * `[a-z0-9-]` dropped, cut to 40. The result may still be empty: check it with
 * `isSlug`.
 *
 * @example
 * slugify('  Team Lunch! ') // "team-lunch"
 */
export function slugify(name: string): string {
	return name
		.trim()
		.toLowerCase()
		.replace(/\s+/g, '-')
		.replace(/[^a-z0-9-]/g, '')
		.slice(0, LIMITS.slugMaxChars);
}

/** True when `slug` is a valid room slug. */
export function isSlug(slug: string): boolean {
	return SLUG_RE.test(slug);
}
