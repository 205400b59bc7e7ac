/**
 * Password hashing with scrypt (node:crypto). The stored string carries its
 * own parameters, so they can be raised later without breaking old hashes:
 * `scrypt$<N>$<r>$<p>$<salt b64>$<hash b64>`.
 */
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const KEY_LENGTH = 32;
const DEFAULTS = { N: 16384, r: 8, p: 1 };

function scrypt(password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
	return new Promise((resolve, reject) =>
		scryptCb(password, salt, KEY_LENGTH, { ...options, maxmem: 64 * 1024 * 1024 }, (err, key) =>
			err ? reject(err) : resolve(key)
		)
	);
}

/** Hash a password for storage. */
export async function hashPassword(password: string, params = DEFAULTS): Promise<string> {
	const salt = randomBytes(16);
	const hash = await scrypt(password, salt, params);
	return ['scrypt', params.N, params.r, params.p, salt.toString('base64'), hash.toString('base64')].join('$');
}

/** Check a password against a stored hash, in constant time. A malformed hash never matches. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
	const parts = stored.split('$');
	if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
	const [, n, r, p, saltB64, hashB64] = parts as [string, string, string, string, string, string];
	const expected = Buffer.from(hashB64, 'base64');
	if (expected.length !== KEY_LENGTH) return false;
	const actual = await scrypt(password, Buffer.from(saltB64, 'base64'), { N: +n, r: +r, p: +p });
	return timingSafeEqual(actual, expected);
}
