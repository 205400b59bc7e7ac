/**
 * axe-core (WCAG 2.0, 2.1 and 2.2, levels A and AA) on the app's seven
 * states: sign-in, sign-in error, a room, offline with two pending, the
 * "Synced" toast, a failed message, and the phone drawer; at 1280×800 and
 * 390×844, in light and dark mode. Any WCAG A/AA violation fails, and so
 * does `landmark-one-main` (the room page once had no <main>); other
 * best-practice findings are attached to the report.
 *
 * At 1280×800 there is no drawer (the sidebar is always shown, audited in
 * every room state), so the seventh state is audited on the phone only.
 */
import AxeBuilder from '@axe-core/playwright';
import type { Page, TestInfo } from '@playwright/test';
import { createPeer } from '../fixtures/peer.js';
import { expectConnected, goOffline, goOnline, passwordOf, sendMessage, signInUI, test } from '../scenarios/helpers.js';
import { createAccount, DESKTOP, expect, PHONE, sendFailing } from './support.js';

const WCAG = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22a', 'wcag22aa'];
/** Best-practice rules that fail the suite too (the finding). */
const ALSO_FAILING = new Set(['landmark-one-main']);

interface Finding {
	state: string;
	scheme: string;
	rule: string;
	impact: string | null | undefined;
	help: string;
	targets: string[];
}

/** Audit the page as it is, in light and dark mode; returns the failing findings and attaches the rest. */
async function audit(page: Page, state: string, info: TestInfo): Promise<Finding[]> {
	const failing: Finding[] = [];
	const advisory: Finding[] = [];
	for (const scheme of ['light', 'dark'] as const) {
		await page.emulateMedia({ colorScheme: scheme, reducedMotion: 'reduce' });
		const results = await new AxeBuilder({ page }).withTags([...WCAG, 'best-practice']).analyze();
		for (const v of results.violations) {
			const finding = {
				state,
				scheme,
				rule: v.id,
				impact: v.impact,
				help: v.help,
				targets: v.nodes.map((n) => n.target.join(' '))
			};
			if (v.tags.some((tag) => WCAG.includes(tag)) || ALSO_FAILING.has(v.id)) failing.push(finding);
			else advisory.push(finding);
		}
	}
	await page.emulateMedia({ colorScheme: 'light', reducedMotion: 'reduce' });
	if (advisory.length) await info.attach(`best-practice: ${state}`, { body: JSON.stringify(advisory, null, 2), contentType: 'application/json' });
	return failing;
}

for (const [size, viewport] of [
	['1280×800', DESKTOP],
	['390×844', PHONE]
] as const) {
	test(`axe finds no WCAG 2.2 A/AA violation in the seven states at ${size}`, async ({ app, browser }, info) => {
		// Seven states, each audited by axe (a few seconds of CPU each): more than the suite's default minute on a loaded machine.
		test.setTimeout(180_000);
		const context = await browser.newContext({ viewport });
		const page = await context.newPage();
		const peer = await createPeer(app.url, 'bob');
		const findings: Finding[] = [];
		const audited: string[] = [];
		const check = async (state: string) => {
			findings.push(...(await audit(page, state, info)));
			audited.push(state);
		};
		try {
			await page.emulateMedia({ reducedMotion: 'reduce' });
			await createAccount(app, 'ann');

			await test.step('sign-in', async () => {
				await page.goto(app.url + '/');
				await expect(page.getByTestId('signin-submit')).toBeVisible();
				await check('sign-in');
			});

			await test.step('sign-in error', async () => {
				await page.getByTestId('signin-name').fill('ann');
				await page.getByTestId('signin-password').fill('not her password');
				await page.getByTestId('signin-submit').click();
				await expect(page.getByRole('alert')).toBeVisible();
				await check('sign-in error');
			});

			await test.step('a room', async () => {
				await signInUI(page, app, 'ann', { password: passwordOf('ann'), goto: false });
				await expectConnected(page);
				await peer.send('lobby', 'bob: hello ann, this is a message from someone else');
				await expect(page.getByTestId('message')).toHaveCount(1);
				await sendMessage(page, 'ann: hello bob');
				await expect(page.getByTestId('message').last()).toHaveAttribute('data-status', 'sent', { timeout: 10_000 });
				await check('a room');
			});

			await test.step('offline with two pending', async () => {
				await goOffline(context, page);
				await sendMessage(page, 'ann: written offline 1');
				await sendMessage(page, 'ann: written offline 2');
				await expect(page.getByTestId('pending-badge')).toContainText('2');
				await check('offline with two pending');
			});

			await test.step('the toast', async () => {
				await goOnline(context);
				const toast = page.getByTestId('sync-toast');
				await expect(toast).toHaveText('Synced 2 actions', { timeout: 10_000 });
				// Hovered, it stays for the audit.
				await toast.hover();
				await check('the toast');
				await page.mouse.move(0, viewport.height - 1);
			});

			await test.step('a failed message', async () => {
				await expectConnected(page);
				await sendFailing(page, 'failed');
				await check('a failed message');
			});

			if (viewport === PHONE) {
				await test.step('the phone drawer', async () => {
					await page.getByRole('button', { name: 'Rooms' }).click();
					await expect(page.getByRole('dialog', { name: 'Rooms and account' })).toBeVisible();
					await check('the phone drawer');
				});
			}

			expect(audited).toEqual([
				'sign-in',
				'sign-in error',
				'a room',
				'offline with two pending',
				'the toast',
				'a failed message',
				...(viewport === PHONE ? ['the phone drawer'] : [])
			]);
			expect(findings, JSON.stringify(findings, null, 2)).toEqual([]);
		} finally {
			peer.close();
			await context.close();
		}
	});
}
