/**
 * The built app (`build/main.js`, built first when stale) on a real port with a
 * fresh data dir, for the browser benches; and a sign-in over its HTTP API.
 * BENCH_PORT picks the port (a shared machine's own range), else any free one.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface BenchServer {
	url: string;
	child: ChildProcess;
	/** Stop the server and delete its data dir. */
	stop(): Promise<void>;
}

async function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const address = server.address();
			server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
		});
	});
}

export async function startServer(name: string, env: Record<string, string> = {}): Promise<BenchServer> {
	// Builds only when the build is missing or older than the sources (as `npm start`).
	execFileSync(process.execPath, ['scripts/build.js', '--if-stale'], { stdio: 'inherit' });
	const port = process.env.BENCH_PORT ? Number(process.env.BENCH_PORT) : await freePort();
	const dataDir = mkdtempSync(join(tmpdir(), `outbox-bench-${name}-`));
	const child = spawn(process.execPath, ['build/main.js'], {
		env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'warn', OUTBOX_DEV_PAGES: '1', ...env },
		stdio: ['ignore', 'ignore', 'inherit']
	});
	const url = `http://127.0.0.1:${port}`;
	const stop = async () => {
		child.kill('SIGTERM');
		await new Promise((r) => setTimeout(r, 300));
		rmSync(dataDir, { recursive: true, force: true });
	};
	for (let i = 0; i < 200; i++) {
		try {
			if ((await fetch(url + '/api/session')).status === 401) return { url, child, stop };
		} catch {
			// not listening yet
		}
		await new Promise((r) => setTimeout(r, 100));
	}
	await stop();
	throw new Error('the app server did not start');
}

export async function signIn(url: string, name: string): Promise<{ token: string; user: { id: string; name: string } }> {
	const res = await fetch(url + '/api/session', {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify({ name, password: `pw-${name}` })
	});
	if (!res.ok) throw new Error(`sign-in as ${name}: ${res.status}`);
	return (await res.json()) as { token: string; user: { id: string; name: string } };
}
