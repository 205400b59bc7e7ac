// Where builds live and whether the current one is up to date. Shared by
// scripts/build.js (`npm run build`) and scripts/start.js (`npm start`).
//
//   build -> .builds/<id>/     the current build (a symlink, swapped atomically)
//   build-server -> build       kept for older scripts that ran build-server/main.js
//   .builds/<id>/main.js        our server entry; handler.js, client/, server/ from adapter-node
//   .builds/<id>/build-info.json  {id, fingerprint, builtAt}
//   .builds/<id>/.leases/<pid>  written by each server serving that build (never deleted under it)
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const BUILDS = join(ROOT, '.builds');
export const CURRENT = join(ROOT, 'build');
export const COMPAT = join(ROOT, 'build-server');
export const LOCK = join(BUILDS, '.lock');
export const INFO = 'build-info.json';

/** What the build is made from: a change to any of these makes it stale. */
const INPUTS = [
	'src',
	'static',
	'svelte.config.js',
	'vite.config.ts',
	'tsconfig.json',
	'package.json',
	'package-lock.json',
	'scripts/build.js',
	'scripts/build-server.js',
	'scripts/build-state.js'
];

/** A hash of every input's path, size and modification time (a few ms for the whole tree). */
export function sourceFingerprint() {
	const hash = createHash('sha256');
	for (const input of INPUTS) {
		const path = join(ROOT, input);
		if (!existsSync(path)) continue;
		const files = statSync(path).isDirectory()
			? readdirSync(path, { recursive: true, encoding: 'utf8' })
					.map((name) => join(path, name))
					.sort()
			: [path];
		for (const file of files) {
			const stats = statSync(file);
			if (stats.isFile()) hash.update(`${relative(ROOT, file)}\0${stats.size}\0${stats.mtimeMs}\n`);
		}
	}
	return hash.digest('hex');
}

/** The current build's record, or null when there is none (or it is not one of ours). */
export function currentBuild() {
	try {
		const info = JSON.parse(readFileSync(join(CURRENT, INFO), 'utf8'));
		if (!existsSync(join(CURRENT, 'main.js')) || !existsSync(join(CURRENT, 'handler.js'))) return null;
		return info;
	} catch {
		return null;
	}
}

/** True when a build exists and was made from the sources as they are now. */
export function isUpToDate() {
	return currentBuild()?.fingerprint === sourceFingerprint();
}
