// `npm run build` (and `npm start` when the build is stale): build the app
// into a fresh folder under .builds/, then swap the `build` symlink to it in
// one rename, so a server started from the old build keeps every file it
// serves. One build at a time per folder (a lock: `npm start` twice at once
// waits for the first build instead of racing it in .svelte-kit/), and old
// builds are deleted only when no running server holds a lease on them.
//
//   node scripts/build.js             build now
//   node scripts/build.js --if-stale  build only when the sources changed since the current build
import { spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import lockfile from 'proper-lockfile';
import { BUILDS, COMPAT, CURRENT, INFO, LOCK, ROOT, isUpToDate, sourceFingerprint } from './build-state.js';

const ifStale = process.argv.includes('--if-stale');
/** The holder refreshes the lock every 5 s while its build runs in child processes; one silent for 30 s has died. */
const LOCK_OPTIONS = { realpath: false, lockfilePath: LOCK, stale: 30_000, update: 5_000 };

mkdirSync(BUILDS, { recursive: true });
if (ifStale && isUpToDate()) {
	console.log('build is up to date');
	process.exit(0);
}

const release = await acquireLock();
let status = 0;
try {
	if (ifStale && isUpToDate()) console.log('build is up to date (another process just built it)');
	else status = await build();
} finally {
	await release();
}
process.exit(status);

async function acquireLock() {
	try {
		return await lockfile.lock(ROOT, { ...LOCK_OPTIONS, retries: 0 });
	} catch (error) {
		if (error.code !== 'ELOCKED') throw error;
	}
	console.log('another build is running in this folder: waiting for it');
	return lockfile.lock(ROOT, { ...LOCK_OPTIONS, retries: { retries: 1200, minTimeout: 250, maxTimeout: 500 } });
}

async function build() {
	const fingerprint = sourceFingerprint(); // before building: an edit made meanwhile makes the next start rebuild
	const id = `${new Date().toISOString().replace(/[-:.]/g, '').slice(0, 15)}-${process.pid}`;
	const out = join(BUILDS, id);
	const env = { ...process.env, OUTBOX_BUILD_OUT: out };
	const steps = [
		[join(ROOT, 'node_modules/vite/bin/vite.js'), 'build'],
		[join(ROOT, 'scripts/build-server.js')]
	];
	for (const args of steps) {
		// Asynchronously: this process must stay responsive to keep refreshing its lock.
		const code = await new Promise((done) => {
			const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: 'inherit' });
			child.on('error', () => done(1));
			child.on('close', (exitCode, signal) => done(exitCode ?? signal));
		});
		if (code !== 0) {
			rmSync(out, { recursive: true, force: true });
			console.error(`build failed (${relative(ROOT, args[0])} exited with ${code})`);
			return 1;
		}
	}
	writeFileSync(join(out, INFO), JSON.stringify({ id, fingerprint, builtAt: new Date().toISOString() }, null, 2) + '\n');
	const previous = swapIn(out);
	if (!existsSync(COMPAT)) symlinkSync('build', COMPAT);
	removeUnused(new Set([out, previous].filter(Boolean)));
	console.log(`built ${relative(ROOT, out)} (now ./build)`);
	return 0;
}

/** Point `build` at `out` with one rename; returns the folder it pointed at before. */
function swapIn(out) {
	let previous = null;
	const stats = lstatSync(CURRENT, { throwIfNoEntry: false });
	if (stats?.isSymbolicLink()) previous = resolve(ROOT, readlinkSync(CURRENT));
	else if (stats) {
		// A plain folder (a bare `vite build`, an older checkout): keep it as one of the builds.
		previous = join(BUILDS, `plain-${Date.now()}`);
		renameSync(CURRENT, previous);
	}
	const temp = `${CURRENT}.${process.pid}.tmp`;
	rmSync(temp, { force: true });
	symlinkSync(relative(ROOT, out), temp);
	renameSync(temp, CURRENT);
	return previous;
}

/** Delete builds that are neither kept nor served by a live process. */
function removeUnused(keep) {
	for (const name of readdirSync(BUILDS)) {
		const dir = join(BUILDS, name);
		if (name.startsWith('.') || keep.has(dir) || isLeased(dir)) continue;
		rmSync(dir, { recursive: true, force: true });
	}
}

function isLeased(dir) {
	let pids = [];
	try {
		pids = readdirSync(join(dir, '.leases'));
	} catch {
		return false;
	}
	return pids.some((pid) => {
		try {
			process.kill(Number(pid), 0);
			return true;
		} catch (error) {
			return error.code === 'EPERM'; // alive, another user's
		}
	});
}
