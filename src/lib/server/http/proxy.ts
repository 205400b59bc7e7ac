/**
 * Who is calling and over what, with or without reverse proxies in front.
 * With `TRUST_PROXY=N` (N proxies), the client address is the Nth entry from
 * the right of `X-Forwarded-For` (the one our outermost proxy saw; entries
 * further left are whatever the client claimed) and the scheme comes from
 * `X-Forwarded-Proto` at the same position. With 0, the headers are ignored:
 * anyone could send them.
 */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';

/** The header value at `hops` from the right of a comma-separated list, or undefined. */
function forwarded(req: IncomingMessage, header: string, hops: number): string | undefined {
	const raw = req.headers[header];
	if (hops < 1 || raw === undefined) return undefined;
	const list = (Array.isArray(raw) ? raw.join(',') : raw)
		.split(',')
		.map((entry) => entry.trim())
		.filter(Boolean);
	if (list.length === 0) return undefined;
	return list[Math.max(0, list.length - hops)];
}

/** The client's address (for per-address limits, the access log and the metrics check). */
export function clientAddress(req: IncomingMessage, trustProxy = 0): string {
	return forwarded(req, 'x-forwarded-for', trustProxy) ?? req.socket.remoteAddress ?? 'unknown';
}

/** True when the client reached us over TLS: our own socket, or a trusted proxy saying `https`. */
export function isSecureRequest(req: IncomingMessage, trustProxy = 0): boolean {
	if ((req.socket as TLSSocket).encrypted) return true;
	return forwarded(req, 'x-forwarded-proto', trustProxy)?.toLowerCase() === 'https';
}

/** 127.0.0.0/8, ::1 and their IPv4-mapped forms. */
export function isLoopback(address: string): boolean {
	const plain = address.startsWith('::ffff:') ? address.slice(7) : address;
	return plain === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(plain);
}
