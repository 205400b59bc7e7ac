/**
 * The server secret: `SECRET_KEY` when set, else a random key generated into
 * `<DATA_DIR>/secret.key` on first start (mode 0600) and reused afterwards,
 * so tokens survive restarts and every process on one data dir agrees.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function loadSecret(dataDir: string, fromEnv?: string): string {
	if (fromEnv) {
		if (fromEnv.length < 16) throw new Error('SECRET_KEY must be at least 16 characters');
		return fromEnv;
	}
	const file = join(dataDir, 'secret.key');
	try {
		return readFileSync(file, 'utf8').trim();
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
	}
	mkdirSync(dataDir, { recursive: true });
	const secret = randomBytes(32).toString('hex');
	try {
		writeFileSync(file, secret + '\n', { mode: 0o600, flag: 'wx' });
		return secret;
	} catch (error) {
		// Another process created it first: use theirs.
		if ((error as NodeJS.ErrnoException).code === 'EEXIST') return readFileSync(file, 'utf8').trim();
		throw error;
	}
}
