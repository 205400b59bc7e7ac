/**
 * Shared parts of the offline scenarios (issue 4): a per-test app server the
 * scenario can stop and restart, sign-in / send / read-rows through the UI
 * test ids of DESIGN.md's "App contract", and what the server really holds
 * (read by a second user over the official phoenix client).
 */
import type { BrowserContext, Page, WebSocketRoute } from '@playwright/test';
import { expect, test as base } from '../fixtures/test.js';
import { createAppServer, type AppServer } from '../fixtures/app-server.js';
import { createPeer } from '../fixtures/peer.js';

export { expect };

/** `test` with `app`: the built app as this test's own child process (fresh data dir). */
export const test = base.extend<{ app: AppServer }>({
	// eslint-disable-next-line no-empty-pattern
	app: async ({}, use) => {
		const app = await createAppServer();
		try {
			await use(app);
		} finally {
			await app.dispose();
		}
	}
});

/** One `message` row as the UI shows it. */
export interface Row {
	status: string | null;
	clientId: string | null;
	seq: number | null;
	body: string | null;
}

export const byTestId = (page: Page, id: string) => page.getByTestId(id);

/** Every `message` row, in DOM (= display) order. */
export async function rows(page: Page): Promise<Row[]> {
	return page.getByTestId('message').evaluateAll((elements) =>
		elements.map((el) => {
			const body = el.querySelector('[data-testid="message-body"]');
			const seq = el.getAttribute('data-seq');
			return {
				status: el.getAttribute('data-status'),
				clientId: el.getAttribute('data-client-id'),
				seq: seq === null || seq === '' ? null : Number(seq),
				body: body ? (body.textContent ?? '').trim() : null
			};
		})
	);
}

/** The row with this client id (a locator, for clicks and text assertions). */
export const row = (page: Page, clientId: string) => page.locator(`[data-testid="message"][data-client-id="${clientId}"]`);

export interface Session {
	token: string | null;
	user: { id: string; name: string } | null;
}

export const passwordOf = (name: string) => `pw-${name}`;

/**
 * Sign in through the form (`signin-name`, `signin-password`,
 * `signin-submit`) and wait for `/rooms/lobby` with its composer. Returns
 * the token when the page got it from `POST /api/session`.
 * `goto: false` uses the form already on screen.
 */
export async function signInUI(
	page: Page,
	app: AppServer,
	name: string,
	{ password = passwordOf(name), goto = true }: { password?: string; goto?: boolean } = {}
): Promise<Session> {
	if (goto) await page.goto(app.url + '/');
	const session: Session = { token: null, user: null };
	const onResponse = async (response: import('@playwright/test').Response) => {
		if (new URL(response.url()).pathname !== '/api/session' || response.request().method() !== 'POST') return;
		try {
			const json = await response.json();
			if (typeof json?.token === 'string') {
				session.token = json.token;
				session.user = json.user ?? null;
			}
		} catch {
			// not JSON: the app signs in some other way
		}
	};
	page.on('response', onResponse);
	try {
		await page.getByTestId('signin-name').fill(name);
		await page.getByTestId('signin-password').fill(password);
		await page.getByTestId('signin-submit').click();
		await page.waitForURL(/\/rooms\/lobby\/?$/);
		await expect(page.getByTestId('composer-input')).toBeVisible();
		await expect(page.getByTestId('signout')).toBeVisible();
	} finally {
		page.off('response', onResponse);
	}
	return session;
}

/** Wait until the page says it is connected (no banner). */
export async function expectConnected(page: Page, timeout = 10_000) {
	await expect(page.getByTestId('connection-banner')).toHaveCount(0, { timeout });
}

/** `context.setOffline(true)` and wait for every given page's banner to say offline. */
export async function goOffline(context: BrowserContext, ...pages: Page[]) {
	await context.setOffline(true);
	for (const page of pages) await expect(page.getByTestId('connection-banner')).toContainText(/offline/i);
}

export async function goOnline(context: BrowserContext) {
	await context.setOffline(false);
}

/**
 * Type `body` into the composer and press Send; wait for the new row (a
 * client id not on screen before) and return its client id.
 */
export async function sendMessage(page: Page, body: string): Promise<string> {
	const before = new Set((await rows(page)).map((r) => r.clientId));
	await page.getByTestId('composer-input').fill(body);
	await page.getByTestId('send-button').click();
	let clientId: string | null = null;
	await expect
		.poll(
			async () => {
				const found = (await rows(page)).find((r) => r.body === body && r.clientId !== null && !before.has(r.clientId));
				clientId = found?.clientId ?? null;
				return clientId;
			},
			{ message: `a new row for "${body.slice(0, 40)}"`, timeout: 5_000 }
		)
		.not.toBeNull();
	await expect(page.getByTestId('composer-input')).toHaveValue('');
	return clientId!;
}

/** Poll the page's rows until they equal `expected` (within `timeout`). */
export async function expectRows(page: Page, expected: Row[] | ((rows: Row[]) => unknown), timeout = 10_000, message?: string) {
	if (typeof expected === 'function') {
		await expect.poll(async () => expected(await rows(page)), { timeout, message }).toBeTruthy();
	} else {
		await expect.poll(() => rows(page), { timeout, message }).toEqual(expected);
	}
}

/** The rows a page must show for what the server holds: all sent, with the server's client ids and seqs. */
export function sentRows(messages: { client_id: string; seq: number; body: string; deleted?: boolean }[]): Row[] {
	return messages.map((m) => ({ status: 'sent', clientId: m.client_id, seq: m.seq, body: m.body }));
}

/** Every message of `room` as the server has it (a sync from null, by a separate user). */
export async function serverMessages(app: AppServer, room = 'lobby'): Promise<any[]> {
	const observer = await createPeer(app.url, 'observer');
	try {
		return await observer.messages(room);
	} finally {
		observer.close();
	}
}

/** Screenshot of the whole page under test-results/ (e.g. `scenario-01.png`). */
export async function screenshot(page: Page, name: string) {
	await page.screenshot({ path: `test-results/${name}.png`, fullPage: true });
}

/**
 * Route the page's phoenix sockets through the test (set it before the page
 * opens its socket). `blocked`: new sockets are refused at once (closed
 * 1001, as a server going away); `dropPushes`: server pushes with these
 * event names are swallowed (and counted) instead of reaching the page.
 */
export async function routeSocket(page: Page) {
	const control = {
		blocked: false,
		dropPushes: new Set<string>(),
		dropped: [] as unknown[],
		sockets: [] as WebSocketRoute[]
	};
	await page.routeWebSocket(/\/socket\/websocket/, (ws) => {
		control.sockets.push(ws);
		if (control.blocked) {
			void ws.close({ code: 1001, reason: 'blocked by the test' });
			return;
		}
		const server = ws.connectToServer();
		ws.onMessage((frame) => server.send(frame));
		server.onMessage((frame) => {
			if (control.dropPushes.size > 0 && typeof frame === 'string') {
				try {
					const [, , , event] = JSON.parse(frame) as unknown[];
					if (typeof event === 'string' && control.dropPushes.has(event)) {
						control.dropped.push(JSON.parse(frame));
						return;
					}
				} catch {
					// not a JSON frame: pass it on
				}
			}
			ws.send(frame);
		});
		// 1005/1006/1015 only describe a close; they cannot be sent.
		const sendable = (code: number | undefined) => (code === 1000 || (code !== undefined && code >= 1001 && code <= 1014 && code !== 1005 && code !== 1006) || (code !== undefined && code >= 3000 && code <= 4999) ? code : 1001);
		ws.onClose((code, reason) => void server.close({ code: sendable(code), reason }));
		server.onClose((code, reason) => void ws.close({ code: sendable(code), reason }));
	});
	return control;
}

/**
 * Record the kit's `outbox:call-reconciled` DOM events (DESIGN.md "Events");
 * call before the page loads.
 */
export async function recordReconciled(page: Page) {
	await page.addInitScript(() => {
		const w = window as unknown as { __reconciled: { type: unknown; payload: unknown }[] };
		w.__reconciled = [];
		window.addEventListener('outbox:call-reconciled', (event) => {
			const item = (event as CustomEvent<{ item?: { type?: unknown; payload?: unknown } }>).detail?.item;
			w.__reconciled.push({ type: item?.type, payload: item?.payload });
		});
	});
}

/**
 * Wait until the app's own `mark_read` up to `seq` is confirmed: the room
 * marks others' messages read ~0.4 s after they show, and a test that goes
 * offline in that window would find that action in the queue too.
 */
export async function waitForMarkRead(page: Page, seq: number) {
	await expect
		.poll(
			() =>
				page.evaluate(
					(seq) =>
						(window as unknown as { __reconciled: { type: unknown; payload: unknown }[] }).__reconciled.some(
							(r) => r.type === 'mark_read' && Number((r.payload as { seq?: unknown } | null)?.seq) >= seq
						),
					seq
				),
			{ message: `the app's mark_read up to seq ${seq} confirmed` }
		)
		.toBe(true);
}
