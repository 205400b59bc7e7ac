// Makes sure the PostgreSQL the tests use answers: TEST_DATABASE_URL, default
// postgres://postgres@127.0.0.1:5432/test. When it does not: starts the local
// Debian clusters (pg_ctlcluster); when PostgreSQL is not installed and we are
// root on Debian, installs it (apt-get), lets local TCP logins in without a
// password (a fresh test install only) and starts it; creates the database
// when missing. Otherwise fails with a how-to. `node scripts/postgres.js`
// prints the URL or exits 1.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import pg from 'pg';

export const DEFAULT_TEST_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';
const CONF = '/etc/postgresql';

/** Null when a connection works, else the error (with pg's SQLSTATE `code` when the server answered). */
async function probe(url) {
	const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
	try {
		await client.connect();
		await client.query('SELECT 1');
		return null;
	} catch (error) {
		return error;
	} finally {
		await client.end().catch(() => {});
	}
}

function redact(url) {
	const u = new URL(url);
	if (u.password) u.password = '***';
	return u.toString();
}

async function createDatabase(url) {
	const target = new URL(url);
	const name = decodeURIComponent(target.pathname.slice(1));
	target.pathname = '/postgres';
	const client = new pg.Client({ connectionString: target.toString() });
	await client.connect();
	try {
		await client.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`);
		console.log(`[test] created database ${name}`);
	} catch (error) {
		if (error.code !== '42P04') throw error; // created meanwhile by someone else: fine
	} finally {
		await client.end();
	}
}

/** `[[version, name], ...]` of the Debian clusters on this machine. */
function clusters() {
	if (!existsSync(CONF)) return [];
	return readdirSync(CONF).flatMap((version) =>
		readdirSync(`${CONF}/${version}`)
			.filter((name) => existsSync(`${CONF}/${version}/${name}/postgresql.conf`))
			.map((name) => [version, name])
	);
}

/** `start`, `stop`... every cluster; returns how many did it (or were already so). */
function ctlClusters(action) {
	let ok = 0;
	for (const [version, name] of clusters()) {
		const result = spawnSync('pg_ctlcluster', ['--skip-systemctl-redirect', version, name, action], { encoding: 'utf8' });
		// Exit 2 is "already running" (start) or "not running" (stop).
		if (result.status === 0 || result.status === 2) ok++;
		else console.error(`[test] pg_ctlcluster ${version} ${name} ${action}: ${(result.stderr || result.error?.message || '').trim()}`);
	}
	return ok;
}

/** A fresh install only accepts passwords over TCP; the test server it is for may trust localhost. */
function trustLocalTcp() {
	for (const [version, name] of clusters()) {
		const file = `${CONF}/${version}/${name}/pg_hba.conf`;
		const lines = 'host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n';
		writeFileSync(file, `# added by outbox scripts/postgres.js for tests\n${lines}${readFileSync(file, 'utf8')}`);
	}
}

function install() {
	console.log('[test] installing Debian postgresql (apt-get, about a minute)…');
	execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
	const result = spawnSync('apt-get', ['install', '-y', '-qq', 'postgresql'], {
		stdio: 'inherit',
		env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
	});
	if (result.status !== 0) throw new Error('apt-get install postgresql failed');
}

const HOW_TO =
	'Install and start PostgreSQL (Debian/Ubuntu: `sudo apt-get install -y postgresql`, then ' +
	'`sudo pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`), ' +
	'or point TEST_DATABASE_URL at a server where you may create schemas.';

/** Resolves to the URL once a connection works; rejects with a how-to otherwise. */
export async function ensurePostgres({ install: mayInstall = true, url = process.env.TEST_DATABASE_URL || DEFAULT_TEST_DATABASE_URL } = {}) {
	let error = await probe(url);
	if (error?.code === '3D000') {
		await createDatabase(url);
		error = await probe(url);
	}
	if (!error) return url;
	if (error.code === '28P01' || error.code === '28000') {
		throw new Error(`PostgreSQL at ${redact(url)} refused the login (${error.message}). Set TEST_DATABASE_URL with a user and password it accepts.`);
	}
	const host = new URL(url).hostname;
	if (!['127.0.0.1', 'localhost', '::1', '[::1]'].includes(host)) {
		throw new Error(`PostgreSQL at ${redact(url)} is not reachable (${error.message}). Start it, or fix TEST_DATABASE_URL.`);
	}

	if (clusters().length === 0) {
		const isRoot = process.getuid?.() === 0;
		if (!mayInstall || !isRoot || !existsSync('/usr/bin/apt-get')) {
			throw new Error(`PostgreSQL is not installed here (${error.message}). ${HOW_TO}`);
		}
		install();
		trustLocalTcp();
		ctlClusters('stop'); // the package may have started it before pg_hba.conf changed
	}
	console.log('[test] starting the local PostgreSQL cluster(s)…');
	if (ctlClusters('start') === 0) {
		throw new Error(`PostgreSQL is installed but could not be started (run as root or as the postgres user?). ${HOW_TO}`);
	}

	const deadline = Date.now() + 30_000;
	while (Date.now() < deadline) {
		error = await probe(url);
		if (error?.code === '3D000') {
			await createDatabase(url);
			continue;
		}
		if (!error) return url;
		await new Promise((resolve) => setTimeout(resolve, 300));
	}
	throw new Error(`PostgreSQL at ${redact(url)} still does not answer (${error?.message}). ${HOW_TO}`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
	ensurePostgres({ install: !process.argv.includes('--no-install') }).then(
		(url) => console.log(url),
		(error) => {
			console.error(error.message);
			process.exit(1);
		}
	);
}
