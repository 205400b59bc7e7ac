import { expect, test } from './fixtures/test.js';

test('the built app serves its page and the socket accepts a same-origin browser with a token', async ({ page, request }) => {
	const signIn = await request.post('/api/session', { data: { name: 'smoke', password: 'pw-smoke' } });
	expect(signIn.status()).toBe(200);
	const { token } = (await signIn.json()) as { token: string };

	await page.goto('/');
	await expect(page).toHaveTitle(/Outbox/);

	// A raw browser WebSocket, as phoenix.js opens it: `authToken` travels as a subprotocol.
	const outcome = await page.evaluate(async (token) => {
		const url = `ws://${location.host}/socket/websocket?vsn=2.0.0`;
		const open = (protocols: string[]) =>
			new Promise<string>((resolve) => {
				const ws = new WebSocket(url, protocols);
				ws.onopen = () => {
					ws.send(JSON.stringify(['1', '1', 'room:lobby', 'phx_join', {}]));
				};
				ws.onmessage = (event) => {
					resolve(`${ws.protocol}|${event.data}`);
					ws.close();
				};
				ws.onclose = (event) => resolve(`closed:${event.code}`);
			});
		const good = await open(['phoenix', 'base64url.bearer.phx.' + btoa(token).replace(/=+$/, '')]);
		const bad = await open(['phoenix', 'base64url.bearer.phx.' + btoa('nope').replace(/=+$/, '')]);
		return { good, bad };
	}, token);

	expect(outcome.good).toBe('phoenix|["1","1","room:lobby","phx_reply",{"status":"ok","response":{"room":"lobby"}}]');
	expect(outcome.bad).toBe('closed:1006');
	await page.screenshot({ path: 'test-results/smoke.png' });
});
