/**
 * Security headers of the built app (issue 11 "Headers"): every page has
 * SvelteKit's CSP (the bootstrap script's hash, the socket's origin in
 * connect-src), static files and API answers a policy that forbids framing
 * and plugins, and all of them Referrer-Policy, nosniff and a restrictive
 * Permissions-Policy; HSTS only when the request came over TLS through a
 * trusted proxy. The browser loading the app under this policy sees no
 * violation (the shared fixture checks every page of every spec).
 */
import { createAppServer } from '../fixtures/app-server.js';
import { expect, test } from '../fixtures/test.js';

const directives = (csp: string) => new Map(csp.split(';').map((part) => { const [name, ...values] = part.trim().split(/\s+/); return [name!, values]; }));

function expectCommon(headers: Record<string, string>, where: string) {
	expect(headers['referrer-policy'], where).toBe('same-origin');
	expect(headers['x-content-type-options'], where).toBe('nosniff');
	for (const feature of ['camera', 'microphone', 'geolocation', 'payment', 'usb']) expect(headers['permissions-policy'], where).toContain(`${feature}=()`);
	const csp = directives(headers['content-security-policy'] ?? '');
	expect(csp.get('frame-ancestors'), where).toEqual(["'none'"]);
	expect(csp.get('object-src'), where).toEqual(["'none'"]);
	expect(headers['strict-transport-security'], where).toBeUndefined();
}

test('pages carry the full CSP with the socket origin; static files and API answers a framing- and plugin-free one', async ({ request, baseURL }) => {
	const host = new URL(baseURL!).host;
	for (const path of ['/', '/rooms/lobby', '/rooms/dm-aaaa-bbbb', '/no/such/page', '/dev/components']) {
		const res = await request.get(path);
		expect(res.headers()['content-type'], path).toMatch(/^text\/html/);
		expectCommon(res.headers(), path);
		const csp = directives(res.headers()['content-security-policy']!);
		expect(csp.get('default-src'), path).toEqual(["'self'"]);
		expect(csp.get('connect-src'), path).toEqual(["'self'", `ws://${host}`]);
		expect(csp.get('img-src'), path).toEqual(["'self'", 'blob:', 'data:']);
		expect(csp.get('base-uri'), path).toEqual(["'none'"]);
		expect(csp.get('script-src')?.[0], path).toBe("'self'");
		expect(csp.get('script-src')?.slice(1).every((v) => /^'sha256-[A-Za-z0-9+/=]+'$/.test(v)), path).toBe(true);
		expect(csp.get('script-src')?.join(' '), path).not.toMatch(/unsafe-(inline|eval)/);
	}

	const html = await (await request.get('/')).text();
	const asset = /\/_app\/immutable\/entry\/start\.[\w-]+\.js/.exec(html)![0];
	for (const path of [asset, '/favicon.svg', '/service-worker.js', '/_app/version.json']) {
		const res = await request.get(path);
		expect(res.status(), path).toBe(200);
		expectCommon(res.headers(), path);
		expect(directives(res.headers()['content-security-policy']!).get('default-src'), path).toEqual(["'self'"]);
	}

	for (const path of ['/api/session', '/api/rooms', '/api/nothing', '/healthz', '/readyz']) {
		const res = await request.get(path);
		expectCommon(res.headers(), path);
		expect(directives(res.headers()['content-security-policy']!).get('default-src'), path).toEqual(["'none'"]);
	}
});

test('behind a TLS proxy (TRUST_PROXY=1, X-Forwarded-Proto: https): HSTS, and the page allows the wss:// socket', async () => {
	const app = await createAppServer({ TRUST_PROXY: '1' });
	try {
		const host = new URL(app.url).host;
		for (const path of ['/', '/api/session', '/favicon.svg']) {
			const res = await fetch(app.url + path, { headers: { 'x-forwarded-proto': 'https', 'x-forwarded-for': '198.51.100.4' } });
			expect(res.headers.get('strict-transport-security'), path).toBe('max-age=31536000');
		}
		const page = await fetch(app.url + '/', { headers: { 'x-forwarded-proto': 'https' } });
		expect(directives(page.headers.get('content-security-policy')!).get('connect-src')).toEqual(["'self'", `wss://${host}`]);
		const plain = await fetch(app.url + '/', { headers: { 'x-forwarded-proto': 'http' } });
		expect(plain.headers.get('strict-transport-security')).toBeNull();
	} finally {
		await app.dispose();
	}
});
