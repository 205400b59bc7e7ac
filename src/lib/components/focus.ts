/**
 * Focus rules shared by the components, written once: focus never falls to
 * the page body because a control went away, a modal keeps Tab inside, and
 * a page change puts focus on the new page's heading. DOM only; no Svelte
 * state.
 */
import type { Attachment } from 'svelte/attachments';

const TABBABLE = [
	'a[href]',
	'button:not([disabled])',
	'input:not([disabled]):not([type="hidden"])',
	'select:not([disabled])',
	'textarea:not([disabled])',
	'[tabindex]:not([tabindex="-1"])'
].join(',');

/**
 * The elements inside `root` that Tab reaches, in document order: enabled,
 * rendered (not `display: none` / `visibility: hidden`) and not inert.
 *
 * @example
 * focusableIn(dialog)[0]?.focus();
 */
export function focusableIn(root: HTMLElement): HTMLElement[] {
	return [...root.querySelectorAll<HTMLElement>(TABBABLE)].filter(
		(element) => element.tabIndex >= 0 && !element.closest('[inert]') && element.checkVisibility({ visibilityProperty: true })
	);
}

/**
 * Keeps Tab and Shift+Tab inside `root` (a modal dialog): from the last
 * element Tab goes to the first, from the first Shift+Tab to the last, and
 * from outside (focus escaped somehow) into the dialog. Call it from a
 * `keydown` handler; returns whether it moved focus.
 *
 * @example
 * function onkeydown(event: KeyboardEvent) { if (open) trapTab(dialog, event); }
 */
export function trapTab(root: HTMLElement, event: KeyboardEvent): boolean {
	if (event.key !== 'Tab' || event.altKey || event.ctrlKey || event.metaKey) return false;
	const items = focusableIn(root);
	const first = items[0];
	const last = items.at(-1);
	if (!first || !last) {
		event.preventDefault();
		return false;
	}
	const active = document.activeElement;
	const inside = active instanceof HTMLElement && root.contains(active);
	let target: HTMLElement | null = null;
	if (!inside) target = event.shiftKey ? last : first;
	else if (event.shiftKey && active === first) target = last;
	else if (!event.shiftKey && active === last) target = first;
	if (!target) return false;
	event.preventDefault();
	target.focus();
	return true;
}

/** Whether nothing has focus any more (the browser puts it on the body when the focused element is removed). */
export function focusIsLost(): boolean {
	const active = document.activeElement;
	return active === null || active === document.body || active === document.documentElement;
}

/** What `keepFocus` knows about a control that went away. */
export interface LostFocus<T> {
	/** The element that had focus (now removed from the page). */
	element: HTMLElement;
	/** What `describe` said about it when it got focus. */
	info: T;
}

/**
 * Attachment: when the control that has focus inside this element is
 * removed (an action re-rendered its row, a toast closed) and focus fell to
 * the body, call `recover` to put focus somewhere sensible. `describe` runs
 * when a control gets focus and notes what `recover` will need (e.g. its
 * row), since a removed element may no longer know where it was.
 *
 * Focus the user moved elsewhere on purpose is left alone: only a removal
 * with nothing focused afterwards counts.
 *
 * @example
 * <div {@attach keepFocus({ describe: (el) => el.closest('li')?.dataset.key, recover: ({ info }) => focusNext(info) })}>
 */
export function keepFocus<T>(options: {
	describe: (element: HTMLElement) => T;
	recover: (lost: LostFocus<T>) => void;
}): Attachment<HTMLElement> {
	return (root) => {
		let current: LostFocus<T> | null = null;

		const onfocusin = (event: FocusEvent) => {
			const element = event.target;
			if (!(element instanceof HTMLElement) || element === root) {
				current = null;
				return;
			}
			current = { element, info: options.describe(element) };
		};
		const onfocusout = (event: FocusEvent) => {
			const next = event.relatedTarget;
			if (next instanceof Node && root.contains(next)) return;
			const leaving = current;
			// Focus moved out on purpose (or the window lost focus): forget it. A removal
			// is told apart afterwards: the element is no longer in the page.
			queueMicrotask(() => {
				if (current === leaving && leaving?.element.isConnected && document.activeElement !== leaving.element) current = null;
			});
		};
		const observer = new MutationObserver(() => {
			const lost = current;
			if (!lost || lost.element.isConnected || !focusIsLost()) return;
			current = null;
			options.recover(lost);
		});

		root.addEventListener('focusin', onfocusin);
		root.addEventListener('focusout', onfocusout);
		observer.observe(root, { childList: true, subtree: true });
		return () => {
			observer.disconnect();
			root.removeEventListener('focusin', onfocusin);
			root.removeEventListener('focusout', onfocusout);
		};
	};
}

/**
 * After a page change, focus the new page's main heading (`main h1`), so a
 * keyboard or screen reader user starts at the top of what changed and
 * hears where they are; the heading gets `tabindex="-1"` if it has none.
 * Returns whether a heading was found.
 *
 * @example
 * afterNavigate(({ type }) => { if (type !== 'enter') focusPageHeading(); });
 */
export function focusPageHeading(doc: Document = document): boolean {
	const heading = doc.querySelector<HTMLElement>('main h1');
	if (!heading) return false;
	if (!heading.hasAttribute('tabindex')) heading.setAttribute('tabindex', '-1');
	heading.focus({ preventScroll: true });
	return true;
}
