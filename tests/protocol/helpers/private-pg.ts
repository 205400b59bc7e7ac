/**
 * A private PostgreSQL server for tests that stop or restart it (the shared
 * one on 5432 serves every other suite and must stay up): `initdb` into a temp
 * dir, trust auth, on a port of the caller's, started and restarted with
 * `pg_ctl`. As root the binaries run as the `postgres` user (PostgreSQL
 * refuses root). Fails with how to install PostgreSQL when its binaries are
 * missing.
 */
import { execFile, execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const BIN_ROOT = '/usr/lib/postgresql';

export interface PrivatePostgres {
	/** `postgres://postgres@127.0.0.1:<port>/postgres` */
	readonly url: string;
	readonly port: number;
	/** `pg_ctl restart -m immediate`: every connection dropped at once, no checkpoint (as a crash), then up again. */
	restart(): Promise<void>;
	/** Stop it and remove its data. */
	close(): Promise<void>;
}

/** The newest installed PostgreSQL's bin dir, or an Error saying how to install one. */
export function postgresBinDir(): string {
	const versions = existsSync(BIN_ROOT) ? readdirSync(BIN_ROOT).filter((v) => existsSync(join(BIN_ROOT, v, 'bin', 'pg_ctl'))) : [];
	if (versions.length === 0) {
		throw new Error(
			`PostgreSQL's server binaries (initdb, pg_ctl) are not in ${BIN_ROOT}/<version>/bin. ` +
				'Install them: `node scripts/postgres.js` (as root on Debian it runs `apt-get install -y postgresql`), ' +
				'or `sudo apt-get install -y postgresql`.'
		);
	}
	const newest = versions.sort((a, b) => Number(b) - Number(a))[0] as string;
	return join(BIN_ROOT, newest, 'bin');
}

/** The first port from `from` (100 tried) that nothing listens on now. */
async function freePort(from: number): Promise<number> {
	for (let port = from; port < from + 100; port++) {
		const free = await new Promise<boolean>((resolve) => {
			const server = createServer();
			server.once('error', () => resolve(false));
			server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
		});
		if (free) return port;
	}
	throw new Error(`no free port in ${from}–${from + 99} for a private PostgreSQL`);
}

/** Start one on the first free port from `fromPort`. */
export async function startPrivatePostgres(fromPort: number): Promise<PrivatePostgres> {
	const bin = postgresBinDir();
	const port = await freePort(fromPort);
	const asRoot = process.getuid?.() === 0;
	const dir = mkdtempSync(join(tmpdir(), 'outbox-pg-'));
	if (asRoot) {
		const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
		const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
		chownSync(dir, uid, gid);
	}
	const data = join(dir, 'data');
	const pgRun = (tool: string, args: string[]) =>
		asRoot ? run('runuser', ['-u', 'postgres', '--', join(bin, tool), ...args]) : run(join(bin, tool), args);
	const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60`;
	await pgRun('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
	const ctl = (...args: string[]) => pgRun('pg_ctl', ['-D', data, '-l', join(dir, 'log'), '-w', '-t', '60', ...args]);
	await ctl('-o', options, 'start');
	return {
		url: `postgres://postgres@127.0.0.1:${port}/postgres`,
		port,
		async restart() {
			await ctl('-m', 'immediate', '-o', options, 'restart');
		},
		async close() {
			await ctl('-m', 'immediate', 'stop').catch(() => {});
			rmSync(dir, { recursive: true, force: true });
		}
	};
}
