/**
 * Session tokens: `v1.<userId>.<tokenId>.<expiresAtSeconds>.<signature>`,
 * HMAC-SHA256 signed with the server secret. Only `[A-Za-z0-9._-]` appear,
 * because the phoenix client base64-encodes the token into a WebSocket
 * subprotocol and breaks on some other characters.
 *
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

	/** The claims of a well-signed, unexpired token, or null. */
	verify(token: string | null | undefined): TokenClaims | null {
		if (!token || token.length > 200 || !TOKEN_RE.test(token)) return null;
		const parts = token.split('.');
		if (parts.length !== 5 || parts[0] !== 'v1') return null;
		const [, userId, tokenId, exp, signature] = parts as [string, string, string, string, string];
		const expected = Buffer.from(this.#sign(parts.slice(0, 4).join('.')));
		const actual = Buffer.from(signature);
		if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) return null;
		const expiresAt = Number(exp) * 1000;
		if (!Number.isSafeInteger(expiresAt) || expiresAt <= this.#now()) return null;
		return { userId, tokenId, expiresAt };
	}

	#sign(body: string): string {
		return createHmac('sha256', this.#key).update(body).digest('base64url');
	}
}
