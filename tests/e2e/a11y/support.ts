/**
 * Shared parts of the accessibility suite (issue 13): the app states it
 * audits, what has focus, and a recorder of every live region's text.
 * Everything runs against the real built app and server (the `app` fixture
 * of the scenarios), in Chromium.
 */
import type { Page } from '@playwright/test';
import { signIn } from '../fixtures/peer.js';
import { expect, passwordOf, row, sendMessage } from '../scenarios/helpers.js';
import type { AppServer } from '../fixtures/app-server.js';

export { expect };

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

/** A body the kit refuses before queueing (4,001 characters): the row shows failed with the reason. */
export const tooLong = (tag: string) => `${tag} ` + 'x'.repeat(4001 - tag.length - 1);

/** Make the account now (the first sign-in with a name creates it), so a wrong password can fail later. */
export async function createAccount(app: AppServer, name: string): Promise<void> {
	await signIn(app.url, name, passwordOf(name));
}

/** Send a message that fails (too long) and wait for its failed row; returns its client id. */
export async function sendFailing(page: Page, tag: string): Promise<string> {
	const id = await sendMessage(page, tooLong(tag));
	await expect(row(page, id)).toHaveAttribute('data-status', 'failed', { timeout: 10_000 });
	return id;
}

/** What has focus: its test id, accessible-ish name, and the message row (client id) it sits in. */
export interface FocusInfo {
	tag: string;
	testid: string | null;
	label: string | null;
	clientId: string | null;
	inDialog: boolean;
}

export function focused(page: Page): Promise<FocusInfo> {
	return page.evaluate(() => {
		const el = document.activeElement as HTMLElement | null;
		return {
			tag: el?.tagName.toLowerCase() ?? 'none',
			testid: el?.getAttribute('data-testid') ?? null,
			label: el?.getAttribute('aria-label') ?? (el?.textContent ?? '').trim().slice(0, 60),
			clientId: el?.closest('[data-testid="message"]')?.getAttribute('data-client-id') ?? null,
			inDialog: !!el?.closest('[role="dialog"]')
		};
	});
}

/** Poll until the focused element matches `expected` (a subset of FocusInfo). */
export async function expectFocus(page: Page, expected: Partial<FocusInfo>, message?: string) {
	await expect.poll(async () => {
		const info = await focused(page);
		return Object.fromEntries(Object.keys(expected).map((key) => [key, info[key as keyof FocusInfo]]));
	}, { message: message ?? `focus on ${JSON.stringify(expected)}` }).toEqual(expected);
}

/** One change of a live region's text, as a screen reader would be told of it. */
export interface LiveChange {
	/** The region's test id (or its role when it has none). */
	region: string;
	text: string;
}

/**
 * Record every live region's text from the next page load on: each change
 * of a region's text (`__live`), and every region that entered the page
 * with its text already inside (`__liveBorn`), which screen readers may not
 * read. Call before `page.goto`.
 */
export async function recordLiveRegions(page: Page) {
	await page.addInitScript(() => {
		type W = { __live: { region: string; text: string }[]; __liveBorn: { region: string; text: string }[]; __badgeShown: number };
		const w = window as unknown as W;
		w.__live = [];
		w.__liveBorn = [];
		w.__badgeShown = 0;
		const LIVE = '[aria-live]:not([aria-live="off"]), [role="status"]:not([aria-live="off"]), [role="alert"], [role="log"]:not([aria-live="off"])';
		const last = new Map<Element, string>();
		const name = (el: Element) => el.getAttribute('data-testid') ?? el.getAttribute('role') ?? el.tagName.toLowerCase();
		const text = (el: Element) => (el.textContent ?? '').replace(/\s+/g, ' ').trim();
		const note = (region: Element) => {
			const now = text(region);
			if (last.get(region) === now) return;
			last.set(region, now);
			w.__live.push({ region: name(region), text: now });
		};
		const regionsIn = (node: Node): Element[] => {
			if (!(node instanceof Element)) return [];
			return [...(node.matches(LIVE) ? [node] : []), ...node.querySelectorAll(LIVE)];
		};
		const start = () => {
			for (const region of document.querySelectorAll(LIVE)) last.set(region, text(region));
			new MutationObserver((mutations) => {
				for (const m of mutations) {
					for (const added of m.addedNodes) {
						if (added instanceof Element && (added.matches('[data-testid="pending-badge"]') || added.querySelector('[data-testid="pending-badge"]'))) w.__badgeShown++;
						for (const region of regionsIn(added)) {
							const now = text(region);
							last.set(region, now);
							if (now !== '') w.__liveBorn.push({ region: name(region), text: now });
						}
					}
					const target = m.target instanceof Element ? m.target : m.target.parentElement;
					const region = target?.closest(LIVE);
					if (region?.isConnected) note(region);
				}
			}).observe(document, { subtree: true, childList: true, characterData: true });
		};
		if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
		else start();
	});
}

/** Live region changes since the last `clearLive`. */
export function liveChanges(page: Page): Promise<LiveChange[]> {
	return page.evaluate(() => (window as unknown as { __live: LiveChange[] }).__live.slice());
}

/** Regions that appeared with their text already inside, since the last `clearLive`. */
export function liveBorn(page: Page): Promise<LiveChange[]> {
	return page.evaluate(() => (window as unknown as { __liveBorn: LiveChange[] }).__liveBorn.slice());
}

/** How many times a `pending-badge` entered the page since the last `clearLive`. */
export function badgeShown(page: Page): Promise<number> {
	return page.evaluate(() => (window as unknown as { __badgeShown: number }).__badgeShown);
}

export function clearLive(page: Page): Promise<void> {
	return page.evaluate(() => {
		const w = window as unknown as { __live: unknown[]; __liveBorn: unknown[]; __badgeShown: number };
		w.__live.length = 0;
		w.__liveBorn.length = 0;
		w.__badgeShown = 0;
	});
}

/** The non-empty texts one region said, in order. */
export async function said(page: Page, region: string): Promise<string[]> {
	return (await liveChanges(page)).filter((c) => c.region === region && c.text !== '').map((c) => c.text);
}
