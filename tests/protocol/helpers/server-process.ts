/**
 * The real Outbox server (API + socket, no SvelteKit pages) as a child
 * process the test owns, configured only through the environment, as
 * `npm start` is. Node 20 cannot load TypeScript, so the server's modules
 * are transpiled once into a temp dir (node_modules linked in).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/**
 * Started with the compiled app exactly as the production entry runs it
 * (runServer with SIGTERM draining and the fault handlers, under
 * runClustered so `WORKERS=N` runs N workers), minus the SvelteKit pages;
 * each server process prints `{"port":N,"pid":P}` once listening.
 */
const ENTRY = `
import { runServer } from './src/lib/server/ops/run-server.js';
import { exitOnStartFailure } from './src/lib/server/ops/start-failure.js';
import { runClustered } from './src/lib/server/cluster.js';
import { configFromEnv } from './src/lib/server/config.js';
await runClustered(async () => {
	const server = await runServer(configFromEnv(), { processHooks: true });
	console.log(JSON.stringify({ port: server.port, pid: process.pid }));
}).catch(exitOnStartFailure);
`;

export interface ServerProcess {
	readonly url: string;
	readonly port: number;
	/** The process started (the cluster primary under WORKERS=N). */
	readonly pid: number;
	/** Every server process that said it listens, in order (the workers under WORKERS=N, restarts included). */
	listeningPids(): number[];
	readonly dataDir: string;
	readonly child: ChildProcess;
	/** Resolves with the exit code (null when a signal ended it) once the process is gone. */
	readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
	/** What the process wrote to stdout and stderr so far (for failure messages). */
	log(): string;
	/** SIGTERM, then wait for the exit. */
	stop(): Promise<void>;
}

/** Transpile `src/lib/server/app.ts` and everything it imports; returns the dir holding `entry.js`. */
export function compileServer(): string {
	const outDir = mkdtempSync(join(tmpdir(), 'outbox-server-'));
	symlinkSync(join(ROOT, 'node_modules'), join(outDir, 'node_modules'), 'dir');
	writeFileSync(join(outDir, 'package.json'), '{"type":"module"}');
	writeFileSync(join(outDir, 'entry.js'), ENTRY);
	const seen = new Set<string>();
	const visit = (sourcePath: string) => {
		if (seen.has(sourcePath)) return;
		seen.add(sourcePath);
		const { outputText } = ts.transpileModule(readFileSync(sourcePath, 'utf8'), {
			compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
			fileName: sourcePath
		});
		const outPath = join(outDir, relative(ROOT, sourcePath)).replace(/\.ts$/, '.js');
		mkdirSync(dirname(outPath), { recursive: true });
		writeFileSync(outPath, outputText);
		// Static imports and dynamic ones (the PostgreSQL modules load only for a cluster).
		for (const [, spec] of outputText.matchAll(/(?:from\s+|import\()'(\.{1,2}\/[^']+)\.js'/g)) {
			visit(resolve(dirname(sourcePath), `${spec}.ts`));
		}
	};
	visit(join(ROOT, 'src/lib/server/ops/run-server.ts'));
	visit(join(ROOT, 'src/lib/server/ops/start-failure.ts'));
	visit(join(ROOT, 'src/lib/server/config.ts'));
	visit(join(ROOT, 'src/lib/server/cluster.ts'));
	return outDir;
}

/**
 * Start a server from `compileServer()`'s dir on a free port; resolves once
 * `listening` processes listen (the workers, with `WORKERS` in `env`).
 * `dataDir`: reuse this data dir (a restart); it is then left in place by `stop()`.
 * `entry`: another entry file in that dir (it must print `{"port":N}` too).
 */
export async function startServerProcess(
	dir: string,
	env: Record<string, string>,
	options: { dataDir?: string; entry?: string; listening?: number } | number = {}
): Promise<ServerProcess> {
	const { dataDir: givenDataDir, entry, listening = 1 } = typeof options === 'number' ? { listening: options } : options;
	const ownsDataDir = givenDataDir === undefined;
	const dataDir = givenDataDir ?? mkdtempSync(join(tmpdir(), 'outbox-node-'));
	const child: ChildProcess = spawn(process.execPath, [entry ?? 'entry.js'], {
		cwd: dir,
		env: { ...process.env, PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'warn', NODE_ENV: 'production', ...env },
		stdio: ['ignore', 'pipe', 'pipe']
	});
	let output = '';
	const pids: number[] = [];
	child.stderr!.on('data', (d) => (output += d));
	const port = await new Promise<number>((resolvePort, reject) => {
		const timer = setTimeout(() => reject(new Error(`server did not start within 15 s:\n${output}`)), 15_000);
		let port = 0;
		child.stdout!.on('data', (d: Buffer) => {
			output += d;
			pids.length = 0;
			for (const match of output.matchAll(/\{"port":(\d+)(?:,"pid":(\d+))?\}/g)) {
				port = Number(match[1]);
				pids.push(Number(match[2] ?? child.pid));
			}
			if (pids.length >= listening) {
				clearTimeout(timer);
				resolvePort(port);
			}
		});
		child.once('exit', (code) => {
			clearTimeout(timer);
			reject(new Error(`server exited with ${code} before listening:\n${output}`));
		});
	});
	const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
		child.exitCode !== null || child.signalCode !== null
			? r({ code: child.exitCode, signal: child.signalCode })
			: child.once('exit', (code, signal) => r({ code, signal }))
	);
	return {
		url: `http://127.0.0.1:${port}`,
		port,
		pid: child.pid!,
		listeningPids: () => [...pids],
		dataDir,
		child,
		exited,
		log: () => output,
		async stop() {
			if (child.exitCode === null) child.kill('SIGTERM');
			const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
			await exited;
			clearTimeout(timer);
			if (ownsDataDir) rmSync(dataDir, { recursive: true, force: true });
		}
	};
}

/** Remove what `compileServer` wrote. */
export function removeCompiled(dir: string): void {
	rmSync(dir, { recursive: true, force: true });
}
