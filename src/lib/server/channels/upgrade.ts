/**
 * The HTTP side of a connect: where the token is, whether the origin may
 * connect, and how a refusal looks on the wire. No state; the channel server
 * calls these while it decides whether to hand the request to `ws`.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { AUTH_TOKEN_PREFIX, PHOENIX_SUBPROTOCOL } from './phoenix.js';

/** The parsed request target: path and query params (first value of each key). */
export interface UpgradeTarget {
	pathname: string;
	params: Record<string, string>;
	/** Every `token` value, in order (a LongPoll client repeats the key: its connect param, then its session). */
	tokens: string[];
}

/** Split `request.url` into path and query params; null when it cannot be parsed. */
export function parseUpgradeTarget(request: IncomingMessage): UpgradeTarget | null {
	try {
		// The base only makes a relative request target parseable; its host is never used.
		const url = new URL(request.url ?? '/', 'http://localhost');
		const params: Record<string, string> = {};
		for (const [key, value] of url.searchParams) {
			if (!(key in params)) params[key] = value;
		}
		return { pathname: url.pathname, params, tokens: url.searchParams.getAll('token') };
	} catch {
		return null;
	}
}

/**
 * The token a client sent: the `base64url.bearer.phx.<base64>` subprotocol
 * entry (the phoenix client's `authToken`), else the `token` query param,
 * else null. Despite its prefix the entry is *standard* base64 without
 * padding (PROTOCOL.md §1).
 */
export function extractToken(request: IncomingMessage, params: Record<string, string>): string | null {
	for (const entry of offeredSubprotocols(request)) {
		if (entry.startsWith(AUTH_TOKEN_PREFIX)) {
			const encoded = entry.slice(AUTH_TOKEN_PREFIX.length);
			if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) return null;
			return Buffer.from(encoded, 'base64').toString('utf8');
		}
	}
	return params.token ?? null;
}

/**
 * `ws`'s `handleProtocols`: select `phoenix` whenever it is offered (the
 * client fails the connection otherwise), never echo the token entry.
 */
export function selectSubprotocol(protocols: Set<string>): string | false {
	return protocols.has(PHOENIX_SUBPROTOCOL) ? PHOENIX_SUBPROTOCOL : false;
}

/**
 * The default origin check: the origin's host (with port) must equal the
 * request's `Host` header. Browsers always send `Origin` on WebSocket
 * upgrades, so this stops other sites from riding a user's cookies.
 */
export function isSameHostOrigin(origin: string, request: IncomingMessage): boolean {
	const host = request.headers.host;
	if (!host) return false;
	try {
		return new URL(origin).host === host.toLowerCase();
	} catch {
		// `Origin: null` (sandboxed frames, file://) and garbage land here.
		return false;
	}
}

const STATUS_TEXT: Record<number, string> = {
	400: 'Bad Request',
	403: 'Forbidden',
	500: 'Internal Server Error',
	503: 'Service Unavailable'
};

/**
 * Answer the upgrade request with a bodyless HTTP error and drop the socket
 * (Phoenix answers a refused connect with 403 and an empty body).
 */
export function refuseUpgrade(socket: Duplex, status: 400 | 403 | 500 | 503): void {
	if (socket.destroyed) return;
	socket.once('finish', socket.destroy);
	socket.end(`HTTP/1.1 ${status} ${STATUS_TEXT[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

function offeredSubprotocols(request: IncomingMessage): string[] {
	const header = request.headers['sec-websocket-protocol'];
	if (typeof header !== 'string') return [];
	return header.split(',').map((entry) => entry.trim());
}
