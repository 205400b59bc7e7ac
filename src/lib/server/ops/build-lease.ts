/**
 * A server marks the build it serves as in use, so that `npm run build`
 * never deletes it (scripts/build.js keeps every build with a live lease):
 * one file per process, `<build>/.leases/<pid>`, removed on exit. Best
 * effort: a read-only build (a container image) needs no lease.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function holdBuildLease(buildDir: string): void {
	const file = join(buildDir, '.leases', String(process.pid));
	try {
		mkdirSync(join(buildDir, '.leases'), { recursive: true });
		writeFileSync(file, new Date().toISOString() + '\n');
	} catch {
		return;
	}
	process.once('exit', () => rmSync(file, { force: true }));
}
