/**
 * Security headers on every answer. Pages get their Content-Security-Policy
 * from SvelteKit (`kit.csp` in svelte.config.js, with the hashes of its
 * bootstrap script); everything else gets one of the fixed policies below,
 * set first so that a handler (SvelteKit, an upload served as `sandbox`) may
 * replace it with its own.
 */
import type { ServerResponse } from 'node:http';

/** API answers and other non-documents: nothing may load, nobody may frame them. */
export const API_CSP = "default-src 'none'; frame-ancestors 'none'; object-src 'none'; base-uri 'none'";

/**
 * Static files. A CSP on a script only matters for a worker, and the service
 * worker fetches from its own origin, so `default-src 'self'` keeps it working.
 */
export const STATIC_CSP = "default-src 'self'; frame-ancestors 'none'; object-src 'none'; base-uri 'none'";

/** Powerful features the chat never uses, switched off for the page and anything it frames. */
export const PERMISSIONS_POLICY = [
	'accelerometer=()',
	'autoplay=()',
	'camera=()',
	'display-capture=()',
	'encrypted-media=()',
	'fullscreen=()',
	'geolocation=()',
	'gyroscope=()',
	'magnetometer=()',
	'microphone=()',
	'midi=()',
	'payment=()',
	'picture-in-picture=()',
	'publickey-credentials-get=()',
	'screen-wake-lock=()',
	'usb=()',
	'xr-spatial-tracking=()'
].join(', ');

/** One year; no `includeSubDomains`, which would bind hosts this server does not own. */
export const HSTS = 'max-age=31536000';

/** Set the headers every answer carries; `secure` adds HSTS (only ever sent over TLS, as RFC 6797 asks). */
export function setSecurityHeaders(res: ServerResponse, secure: boolean): void {
	res.setHeader('content-security-policy', API_CSP);
	res.setHeader('referrer-policy', 'same-origin');
	res.setHeader('x-content-type-options', 'nosniff');
	res.setHeader('x-frame-options', 'DENY');
	res.setHeader('cross-origin-opener-policy', 'same-origin');
	res.setHeader('permissions-policy', PERMISSIONS_POLICY);
	if (secure) res.setHeader('strict-transport-security', HSTS);
}
