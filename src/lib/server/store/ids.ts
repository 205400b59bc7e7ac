import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/**
 * A random short lowercase alphanumeric id (DESIGN.md: user ids), 10 base36
 * characters (~51 bits) by default.
 *
 * @example randomId() // 'k3x9q0m2za'
 */
export function randomId(length = 10): string {
	const bytes = randomBytes(length);
	let id = '';
	// 252 = 7 * 36: dropping bytes at or above it keeps every character equally likely.
	for (let i = 0; id.length < length; i++) {
		if (i === bytes.length) return id + randomId(length - id.length);
		const byte = bytes[i]!;
		if (byte < 252) id += ALPHABET[byte % 36];
	}
	return id;
}
