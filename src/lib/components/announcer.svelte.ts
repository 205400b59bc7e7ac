/**
 * The text of one polite live region. A component renders its region once,
 * empty, and keeps it in the page (a region added together with its text
 * may not be read), then calls `say` when something worth hearing happened.
 *
 * Saying the same words twice in a row ("Sent", "Sent") clears the region
 * first and writes them again a moment later, since screen readers only
 * speak a change.
 *
 * @example
 * const status = new Announcer();
 * status.say('Sent');
 * // <div class="ob-sr-only" role="status" aria-live="polite">{status.text}</div>
 */
export class Announcer {
	#text = $state('');
	#timer: ReturnType<typeof setTimeout> | undefined;

	/** What the region holds now. */
	get text(): string {
		return this.#text;
	}

	/** Put `text` in the region (spoken once by a screen reader); an empty string clears it silently. */
	say(text: string): void {
		clearTimeout(this.#timer);
		if (text !== '' && text === this.#text) {
			this.#text = '';
			this.#timer = setTimeout(() => (this.#text = text), REPEAT_GAP_MS);
			return;
		}
		this.#text = text;
	}

	/** Stop a pending repeat (call when the component goes away). */
	dispose(): void {
		clearTimeout(this.#timer);
	}
}

/** How long a repeated announcement leaves the region empty first (ms). */
const REPEAT_GAP_MS = 60;
