/**
 * Non-text contrast (WCAG 1.4.11), from computed styles, in light and dark
 * mode: every input's border against both its own background and what is
 * around it, and every status icon (pending clock, sent check, failed
 * alert, the badge's icons, the banner's) against the background behind
 * it, with all opacity on the way applied. Each must reach 3:1.
 */
import type { Locator, Page } from '@playwright/test';
import { expectConnected, goOffline, sendMessage, signInUI, test } from '../scenarios/helpers.js';
import { expect, sendFailing } from './support.js';

const MIN = 3;

interface Measured {
	what: string;
	ratio: number;
	detail: string;
}

/**
 * In the page: contrast of an element's border (against its own fill and
 * against what is behind it) or of its text colour (`currentColor`, what an
 * SVG icon strokes with) against what is behind it.
 */
function measure(locator: Locator, kind: 'border' | 'color'): Promise<{ ratio: number; detail: string }> {
	return locator.evaluate((element, kind) => {
		type RGBA = [number, number, number, number];
		const parse = (css: string): RGBA => {
			const m = css.match(/rgba?\(([^)]+)\)/);
			if (!m) throw new Error(`unexpected colour ${css}`);
			const [r, g, b, a = '1'] = m[1]!.split(/[\s,/]+/).filter(Boolean);
			return [Number(r), Number(g), Number(b), Number(a)];
		};
		const over = (top: RGBA, bottom: RGBA): RGBA => {
			const a = top[3];
			return [0, 1, 2].map((i) => top[i]! * a + bottom[i]! * (1 - a)).concat(1) as RGBA;
		};
		const luminance = (c: RGBA) => {
			const [r, g, b] = c.slice(0, 3).map((v) => {
				const s = v / 255;
				return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
			});
			return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
		};
		const ratio = (a: RGBA, b: RGBA) => {
			const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
			return (hi! + 0.05) / (lo! + 0.05);
		};
		/** The colour painted behind `el` (ancestors' backgrounds over the canvas), `el`'s own included when asked. */
		const backdrop = (el: Element | null, withSelf: boolean): RGBA => {
			const chain: Element[] = [];
			for (let node = withSelf ? el : (el?.parentElement ?? null); node; node = node.parentElement) chain.push(node);
			const canvas = parse(getComputedStyle(document.documentElement).backgroundColor);
			let color: RGBA = canvas[3] === 0 ? (matchMedia('(prefers-color-scheme: dark)').matches ? [0, 0, 0, 1] : [255, 255, 255, 1]) : canvas;
			for (const node of chain.reverse()) {
				const fill = parse(getComputedStyle(node).backgroundColor);
				const opacity = Number(getComputedStyle(node).opacity);
				if (fill[3] > 0) color = over([fill[0], fill[1], fill[2], fill[3] * opacity], color);
			}
			return color;
		};
		/** Product of the opacity of `el` and its ancestors. */
		const opacityOf = (el: Element) => {
			let o = 1;
			for (let node: Element | null = el; node; node = node.parentElement) o *= Number(getComputedStyle(node).opacity);
			return o;
		};
		const style = getComputedStyle(element);
		if (kind === 'border') {
			const border = parse(style.borderTopColor);
			const inside = backdrop(element, true);
			const outside = backdrop(element, false);
			const edge = over([border[0], border[1], border[2], border[3] * opacityOf(element)], outside);
			const r = Math.min(ratio(edge, inside), ratio(edge, outside));
			return { ratio: r, detail: `border ${style.borderTopColor} inside ${inside.join(',')} outside ${outside.join(',')}` };
		}
		const fg = parse(style.color);
		const behind = backdrop(element, false);
		const seen = over([fg[0], fg[1], fg[2], fg[3] * opacityOf(element)], behind);
		return { ratio: ratio(seen, behind), detail: `colour ${style.color} × opacity ${opacityOf(element).toFixed(2)} on ${behind.join(',')}` };
	}, kind);
}

async function measureAll(page: Page, targets: [string, Locator, 'border' | 'color'][]): Promise<Measured[]> {
	const out: Measured[] = [];
	// At rest: a focused field shows the focus colour instead of its border.
	await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
	for (const scheme of ['light', 'dark'] as const) {
		await page.emulateMedia({ colorScheme: scheme });
		for (const [what, locator, kind] of targets) {
			await expect(locator, what).toHaveCount(1);
			const { ratio, detail } = await measure(locator, kind);
			out.push({ what: `${what} (${scheme})`, ratio: Math.round(ratio * 100) / 100, detail });
		}
	}
	await page.emulateMedia({ colorScheme: 'light' });
	return out;
}

test('input borders and status icons reach 3:1 in light and dark mode', async ({ app, page, context }, info) => {
	const results: Measured[] = [];

	await page.goto(app.url + '/');
	results.push(
		...(await measureAll(page, [
			['sign-in name border', page.getByTestId('signin-name'), 'border'],
			['sign-in password border', page.getByTestId('signin-password'), 'border']
		]))
	);

	await signInUI(page, app, 'ann', { goto: false });
	await expectConnected(page);
	const sentId = await sendMessage(page, 'ann: confirmed');
	const message = (id: string) => page.locator(`[data-testid="message"][data-client-id="${id}"]`);
	await expect(message(sentId)).toHaveAttribute('data-status', 'sent', { timeout: 10_000 });
	const failedId = await sendFailing(page, 'failed');
	await goOffline(context, page);
	const pendingId = await sendMessage(page, 'ann: waiting');

	const statusIcon = (id: string) => message(id).locator('.status svg');
	results.push(
		...(await measureAll(page, [
			['composer border', page.getByTestId('composer-input'), 'border'],
			['room name border', page.getByLabel('Create or join a room'), 'border'],
			['direct message id border', page.getByTestId('dm-input'), 'border'],
			['pending clock icon', statusIcon(pendingId), 'color'],
			['sent check icon', statusIcon(sentId), 'color'],
			['failed alert icon', statusIcon(failedId), 'color'],
			['badge icon (failed: alert)', page.getByTestId('pending-badge').locator('svg'), 'color'],
			['banner icon (offline)', page.getByTestId('connection-banner').locator('svg').first(), 'color']
		]))
	);

	// The badge's clock: only pending items (no failed one).
	await message(failedId).getByTestId('discard-button').click();
	await expect(page.getByTestId('pending-badge')).toHaveText('1 pending');
	results.push(...(await measureAll(page, [['badge icon (pending: clock)', page.getByTestId('pending-badge').locator('svg'), 'color']])));

	await info.attach('contrast', { body: results.map((r) => `${r.ratio.toFixed(2)}:1  ${r.what}  — ${r.detail}`).join('\n'), contentType: 'text/plain' });
	const low = results.filter((r) => r.ratio < MIN);
	expect(low, `below ${MIN}:1:\n${low.map((r) => `${r.what}: ${r.ratio} (${r.detail})`).join('\n')}`).toEqual([]);
	expect(results).toHaveLength(2 * (2 + 8 + 1));
});
