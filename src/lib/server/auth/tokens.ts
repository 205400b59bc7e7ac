/**
 * Two kinds of token, HMAC-SHA256 signed with the server secret:
 *
 * - session tokens `v1.<userId>.<tokenId>.<expiresAtSeconds>.<signature>`
 *   (`TOKEN_TTL_S`, 7 days): what `POST /api/session` answers and what the
 *   HttpOnly cookie holds. HTTP calls and the socket take them.
 * - socket tokens `s1.<userId>.<tokenId>.<expiresAtSeconds>.<sessionExpiresAtSeconds>.<signature>`
 *   (`SOCKET_TOKEN_TTL_S`, 5 minutes): derived from a session by
 *   `POST /api/socket-token` for page scripts. They carry the session's
 *   `tokenId`, so revoking the session revokes them; only the socket takes
 *   them (a stolen one opens no HTTP API), and only for minutes.
 *
 * Only `[A-Za-z0-9._-]` appear, because the phoenix client base64-encodes
 * the token into a WebSocket subprotocol and breaks on some other characters.
 * A token is checked without the database (signature + expiry); revocation
 * is the one lookup, done by the caller through the store.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export interface TokenClaims {
	userId: string;
	tokenId: string;
	/** Expiry, ms since epoch. */
	expiresAt: number;
}

/** A verified token: its claims, its kind, and when the session behind it ends (ms). */
export interface VerifiedToken extends TokenClaims {
	kind: 'session' | 'socket';
	/** The session's own expiry: `expiresAt` for a session token, later for a socket token. */
	sessionExpiresAt: number;
}

export const TOKEN_RE = /^[A-Za-z0-9._-]+$/;

export class TokenSigner {
	readonly #key: Buffer;
	readonly #ttlMs: number;
	readonly #now: () => number;

	constructor(options: { secret: string | Buffer; ttlSeconds: number; now?: () => number }) {
		if (!options.secret || options.secret.length < 16) {
			throw new TypeError('TokenSigner needs a secret of at least 16 bytes');
		}
		if (!(options.ttlSeconds > 0)) throw new TypeError('TokenSigner ttlSeconds must be > 0');
		this.#key = Buffer.isBuffer(options.secret) ? options.secret : Buffer.from(options.secret);
		this.#ttlMs = options.ttlSeconds * 1000;
		this.#now = options.now ?? Date.now;
	}

	/** Issue a new token for a user. */
	issue(userId: string): { token: string; claims: TokenClaims } {
		const tokenId = randomBytes(12).toString('base64url');
		const expiresAt = this.#now() + this.#ttlMs;
		const body = `v1.${userId}.${tokenId}.${Math.floor(expiresAt / 1000)}`;
		return {
			token: `${body}.${this.#sign(body)}`,
			claims: { userId, tokenId, expiresAt: Math.floor(expiresAt / 1000) * 1000 }
		};
	}

	/**
	 * A socket token for a session: lives `ttlSeconds` (never past the
	 * session's end), names the same user and `tokenId`.
	 */
	issueSocket(session: TokenClaims, ttlSeconds: number): { token: string; claims: TokenClaims } {
		if (!(ttlSeconds > 0)) throw new TypeError('issueSocket ttlSeconds must be > 0');
		const sessionExp = Math.floor(session.expiresAt / 1000);
		const exp = Math.min(sessionExp, Math.floor((this.#now() + ttlSeconds * 1000) / 1000));
		const body = `s1.${session.userId}.${session.tokenId}.${exp}.${sessionExp}`;
		return { token: `${body}.${this.#sign(body)}`, claims: { userId: session.userId, tokenId: session.tokenId, expiresAt: exp * 1000 } };
	}

	/** The claims of a well-signed, unexpired session token, or null (socket tokens included: null). */
	verify(token: string | null | undefined): TokenClaims | null {
		const verified = this.verifyAny(token);
		if (!verified || verified.kind !== 'session') return null;
		return { userId: verified.userId, tokenId: verified.tokenId, expiresAt: verified.expiresAt };
	}

	/** A well-signed, unexpired token of either kind (the socket takes both), or null. */
	verifyAny(token: string | null | undefined): VerifiedToken | null {
		if (!token || token.length > 200 || !TOKEN_RE.test(token)) return null;
		const parts = token.split('.');
		const kind = parts[0] === 'v1' && parts.length === 5 ? 'session' : parts[0] === 's1' && parts.length === 6 ? 'socket' : null;
		if (kind === null) return null;
		const signature = parts.at(-1)!;
		const expected = Buffer.from(this.#sign(parts.slice(0, -1).join('.')));
		const actual = Buffer.from(signature);
		if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) return null;
		const [, userId, tokenId, exp] = parts as [string, string, string, string];
		const expiresAt = Number(exp) * 1000;
		const sessionExpiresAt = kind === 'socket' ? Number(parts[4]) * 1000 : expiresAt;
		if (!Number.isSafeInteger(expiresAt) || !Number.isSafeInteger(sessionExpiresAt) || expiresAt <= this.#now()) return null;
		return { kind, userId, tokenId, expiresAt, sessionExpiresAt };
	}

	#sign(body: string): string {
		return createHmac('sha256', this.#key).update(body).digest('base64url');
	}
}
