/**
 * Security headers on every non-page answer (pages get theirs from
 * SvelteKit: tests/e2e/ops/headers.spec.ts), TRUST_PROXY (the client address
 * for the per-address sign-in limit, the scheme for the `Secure` cookie and
 * HSTS), and the access log: one `info` line per request, no query string,
 * no token.
 */
import { afterEach, describe, expect, test } from 'vitest';
import { startOpsServer, type OpsServer } from './ops-server.js';

let ops: OpsServer | null = null;
afterEach(async () => {
	await ops?.close();
	ops = null;
});

function expectBaseHeaders(res: Response, where: string) {
	const csp = res.headers.get('content-security-policy') ?? '';
	expect(csp, where).toContain("frame-ancestors 'none'");
	expect(csp, where).toContain("object-src 'none'");
	expect(res.headers.get('referrer-policy'), where).toBe('same-origin');
	expect(res.headers.get('x-content-type-options'), where).toBe('nosniff');
	for (const feature of ['camera', 'microphone', 'geolocation', 'payment', 'usb']) {
		expect(res.headers.get('permissions-policy'), where).toContain(`${feature}=()`);
	}
	expect(res.headers.get('x-frame-options'), where).toBe('DENY');
}

describe('security headers', () => {
	test('every API, operations, LongPoll and fallback answer carries CSP, Referrer-Policy, nosniff and Permissions-Policy', async () => {
		ops = await startOpsServer();
		const { token } = await ops.signIn('headers');
		const auth = { authorization: `Bearer ${token}` };
		const answers: Array<[string, Promise<Response>]> = [
			['GET /api/session 401', fetch(ops.url + '/api/session')],
			['GET /api/session 200', fetch(ops.url + '/api/session', { headers: auth })],
			['GET /api/rooms', fetch(ops.url + '/api/rooms', { headers: auth })],
			['POST /api/sync/events 400', fetch(ops.url + '/api/sync/events', { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{}' })],
			['GET /api/nothing 404', fetch(ops.url + '/api/nothing')],
			['POST /api/session 401', fetch(ops.url + '/api/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'headers', password: 'wrong' }) })],
			['GET /healthz', fetch(ops.url + '/healthz')],
			['GET /readyz', fetch(ops.url + '/readyz')],
			['GET /metrics', fetch(ops.url + '/metrics')],
			['GET /socket/longpoll', fetch(ops.url + '/socket/longpoll?vsn=2.0.0')],
			['GET / without pages', fetch(ops.url + '/')]
		];
		const responses = await Promise.all(answers.map(([, pending]) => pending));
		for (const [i, [where]] of answers.entries()) {
			const res = responses[i]!;
			expectBaseHeaders(res, where);
			expect(res.headers.get('content-security-policy'), where).toContain("default-src 'none'");
			expect(res.headers.get('strict-transport-security'), where).toBeNull();
		}
	});

	test('HSTS only when the request came over TLS through a trusted proxy', async () => {
		ops = await startOpsServer({ trustProxy: 1 });
		const tls = await fetch(ops.url + '/healthz', { headers: { 'x-forwarded-proto': 'https' } });
		expect(tls.headers.get('strict-transport-security')).toBe('max-age=31536000');
		const plain = await fetch(ops.url + '/healthz', { headers: { 'x-forwarded-proto': 'http' } });
		expect(plain.headers.get('strict-transport-security')).toBeNull();
		await ops.close();
		ops = await startOpsServer({ trustProxy: 0 });
		const untrusted = await fetch(ops.url + '/healthz', { headers: { 'x-forwarded-proto': 'https' } });
		expect(untrusted.headers.get('strict-transport-security')).toBeNull();
	});
});

describe('TRUST_PROXY', () => {
	const signIn = (name: string, password: string, headers: Record<string, string> = {}) =>
		fetch(ops!.url + '/api/session', {
			method: 'POST',
			headers: { 'content-type': 'application/json', ...headers },
			body: JSON.stringify({ name, password })
		});

	test('=1: the per-address sign-in limit counts the address from X-Forwarded-For, so users behind one proxy do not share it', async () => {
		ops = await startOpsServer({ trustProxy: 1 }, { signInLimits: { perName: 100, perAddress: 2 } });
		for (const name of ['a1', 'a2']) expect((await signIn(name, 'x', { 'x-forwarded-for': '198.51.100.1' })).status).toBe(200);
		for (const name of ['a1', 'a2']) expect((await signIn(name, 'wrong', { 'x-forwarded-for': '198.51.100.1' })).status).toBe(401);
		expect((await signIn('a1', 'x', { 'x-forwarded-for': '198.51.100.1' })).status).toBe(429);
		// Another client behind the same proxy is not held up; a forged left entry changes nothing.
		expect((await signIn('a1', 'x', { 'x-forwarded-for': '198.51.100.2' })).status).toBe(200);
		expect((await signIn('a1', 'x', { 'x-forwarded-for': '198.51.100.2, 198.51.100.1' })).status).toBe(429);
	});

	test('=0 (the default): X-Forwarded-For is ignored, the socket address counts', async () => {
		ops = await startOpsServer({}, { signInLimits: { perName: 100, perAddress: 2 } });
		for (const name of ['b1', 'b2']) expect((await signIn(name, 'x')).status).toBe(200);
		for (const name of ['b1', 'b2']) expect((await signIn(name, 'wrong', { 'x-forwarded-for': `203.0.113.${name.length}` })).status).toBe(401);
		expect((await signIn('b1', 'x', { 'x-forwarded-for': '203.0.113.99' })).status).toBe(429);
	});

	test('the session cookie is Secure when the client reached the proxy over TLS, and not otherwise', async () => {
		ops = await startOpsServer({ trustProxy: 1 });
		const tls = await signIn('cookie', 'pw', { 'x-forwarded-proto': 'https' });
		const cookie = tls.headers.get('set-cookie') ?? '';
		expect(cookie).toMatch(/HttpOnly/);
		expect(cookie).toMatch(/SameSite=Strict/);
		expect(cookie).toMatch(/; Secure/);
		const plain = await signIn('cookie', 'pw', { 'x-forwarded-proto': 'http' });
		expect(plain.headers.get('set-cookie')).not.toMatch(/Secure/);
		const { token } = await tls.json();
		const signOut = await fetch(ops.url + '/api/session', { method: 'DELETE', headers: { authorization: `Bearer ${token}`, 'x-forwarded-proto': 'https' } });
		expect(signOut.headers.get('set-cookie')).toMatch(/Max-Age=0.*; Secure/);
	});
});

describe('access log', () => {
	test('one info line per request: method, path without the query, status, ms and address; never a token or a password', async () => {
		ops = await startOpsServer({ trustProxy: 1 });
		const { token } = await ops.signIn('logger');
		await fetch(ops.url + `/api/rooms?token=${token}&x=1`, { headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': '192.0.2.44' } });
		await fetch(ops.url + '/nothing/here?password=hunter2');
		await expect.poll(() => ops!.logs().filter((line) => line.msg === 'http').length).toBeGreaterThanOrEqual(3);
		const http = ops.logs().filter((line) => line.msg === 'http');
		expect(http.map((line) => [line.method, line.path, line.status])).toEqual([
			['POST', '/api/session', 200],
			['GET', '/api/rooms', 200],
			['GET', '/nothing/here', 404]
		]);
		for (const line of http) {
			expect(line.level).toBe(30);
			expect(typeof line.ms).toBe('number');
		}
		expect(http[1]!.ip).toBe('192.0.2.44');
		const all = JSON.stringify(ops.logs());
		expect(all).not.toContain(token);
		expect(all).not.toContain('hunter2');
		expect(all).not.toContain('pw-logger');
	});
});
