// Finds a Chromium for Playwright: CHROMIUM_PATH, Debian's /usr/bin/chromium,
// or Playwright's own download. With `--install`, installs Debian's package
// when none is found (root only). Prints the path; exits 1 with a how-to.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export function findChromium() {
	const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'];
	for (const path of candidates) if (path && existsSync(path)) return path;
	return null;
}

async function playwrightOwn() {
	try {
		const { chromium } = await import('@playwright/test');
		const path = chromium.executablePath();
		return path && existsSync(path) ? path : null;
	} catch {
		return null;
	}
}

export async function ensureChromium({ install = true } = {}) {
	const found = findChromium() ?? (await playwrightOwn());
	if (found) return found;
	if (process.env.CHROMIUM_PATH) {
		throw new Error(`CHROMIUM_PATH=${process.env.CHROMIUM_PATH} does not exist`);
	}
	const isRoot = process.getuid?.() === 0;
	if (!install || !isRoot || !existsSync('/usr/bin/apt-get')) {
		throw new Error(
			'No Chromium found. Install one: `sudo apt-get install -y chromium` (Debian/Ubuntu), ' +
				'or `npx playwright install chromium`, or set CHROMIUM_PATH to a Chromium binary.'
		);
	}
	console.log('[test] installing Debian chromium (apt-get, about 30 s)…');
	execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
	const result = spawnSync('apt-get', ['install', '-y', '-qq', 'chromium'], {
		stdio: 'inherit',
		env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
	});
	if (result.status !== 0) throw new Error('apt-get install chromium failed');
	const path = findChromium();
	if (!path) throw new Error('chromium installed but /usr/bin/chromium is missing');
	return path;
}

if (import.meta.url === `file://${process.argv[1]}`) {
	ensureChromium({ install: process.argv.includes('--install') }).then(
		(path) => console.log(path),
		(error) => {
			console.error(error.message);
			process.exit(1);
		}
	);
}
