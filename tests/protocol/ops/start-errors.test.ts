/**
 * A start that cannot work says which setting is at fault and what to do,
 * as one JSON log line and exit 1, never a raw stack: a port in use, bad
 * values, a database that does not answer, a data dir that cannot be used.
 * And faults that escape every handler: a stray stream error is survived,
 * a bug outside any request drains and exits 1 for the supervisor.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { compileServer, removeCompiled, startServerProcess } from '../helpers/server-process.js';

let compiled: string;
beforeAll(() => {
	compiled = compileServer();
	writeFileSync(
		join(compiled, 'faulty-entry.js'),
		`
import { createReadStream } from 'node:fs';
import { runServer } from './src/lib/server/ops/run-server.js';
import { configFromEnv } from './src/lib/server/config.js';
const server = await runServer(configFromEnv(), {
	processHooks: true,
	pages(req, res) {
		if (req.url === '/stream-error') {
			// adapter-node's file server, in miniature: a stream piped with no error listener.
			res.writeHead(200, { 'content-type': 'text/plain' });
			createReadStream('/nonexistent/outbox/file.js.br').pipe(res);
			return;
		}
		if (req.url === '/bug') {
			setTimeout(() => { throw new TypeError('a bug outside any request'); }, 50);
			res.end('armed');
			return;
		}
		res.end('page');
	}
});
console.log(JSON.stringify({ port: server.port }));
`
	);
});
afterAll(() => removeCompiled(compiled));

/** Run the compiled entry with `env` until it exits; its output lines and exit code. */
function runToExit(env: Record<string, string>): Promise<{ code: number | null; lines: string[] }> {
	return new Promise((resolve) => {
		const child = spawn(process.execPath, ['entry.js'], {
			cwd: compiled,
			env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', NODE_ENV: 'production', ...env },
			stdio: ['ignore', 'pipe', 'pipe']
		});
		let output = '';
		child.stdout.on('data', (d) => (output += d));
		child.stderr.on('data', (d) => (output += d));
		const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
		child.on('exit', (code) => {
			clearTimeout(timer);
			resolve({ code, lines: output.split('\n').filter(Boolean) });
		});
	});
}

/** Exit 1 with JSON lines only, the last a `fatal` one; returns its message. */
function fatalMessage({ code, lines }: { code: number | null; lines: string[] }): string {
	expect(code).toBe(1);
	const parsed = lines.map((line) => JSON.parse(line) as { level: number; msg: string; err?: unknown });
	const fatal = parsed.at(-1)!;
	expect(fatal.level).toBe(60);
	expect(fatal.err).toBeUndefined();
	expect(lines.join('\n')).not.toMatch(/\n\s+at /);
	return fatal.msg;
}

describe('a start that cannot work names the setting', () => {
	let taken: Server;
	let takenPort: number;
	beforeAll(async () => {
		taken = createServer();
		await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
		takenPort = (taken.address() as { port: number }).port;
	});
	afterAll(() => new Promise<void>((resolve) => taken.close(() => resolve())));

	test('a port in use says which port and what to do', async () => {
		const dataDir = mkdtempSync(join(tmpdir(), 'outbox-start-'));
		try {
			const message = fatalMessage(await runToExit({ PORT: String(takenPort), DATA_DIR: dataDir }));
			expect(message).toBe(
				`cannot start: PORT ${takenPort} is already in use on 127.0.0.1: stop the other process (see \`lsof -i :${takenPort}\` or \`ss -ltnp\`) or set PORT to a free port`
			);
		} finally {
			rmSync(dataDir, { recursive: true, force: true });
		}
	});

	test('bad values: every one named at once', async () => {
		const message = fatalMessage(await runToExit({ LOG_LEVEL: 'verbose', PORT: 'eighty', SOCKET_RATE_BURST: '0' }));
		expect(message).toContain('PORT must be an integer from 0 to 65535, got "eighty"');
		expect(message).toContain('LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "verbose"');
		expect(message).toContain('SOCKET_RATE_BURST must be an integer >= 1, got "0"');
	});

	test('a DATABASE_URL that does not answer is named, without its password', async () => {
		const message = fatalMessage(await runToExit({ DATABASE_URL: 'postgres://outbox:hunter2@127.0.0.1:1/outbox' }));
		expect(message).toMatch(/cannot connect to PostgreSQL at postgres:\/\/outbox:\*+@127\.0\.0\.1:1\/outbox .*fix DATABASE_URL/);
		expect(message).not.toContain('hunter2');
	});

	test('a HOST that is not an address of this machine is named', async () => {
		const dataDir = mkdtempSync(join(tmpdir(), 'outbox-start-'));
		try {
			const message = fatalMessage(await runToExit({ HOST: '192.0.2.123', DATA_DIR: dataDir }));
			expect(message).toBe('cannot start: HOST 192.0.2.123 is not an address of this machine: set HOST to one of its addresses, or 0.0.0.0 for all');
		} finally {
			rmSync(dataDir, { recursive: true, force: true });
		}
	});

	test('a DATA_DIR that cannot be made is named', async () => {
		const file = join(mkdtempSync(join(tmpdir(), 'outbox-start-')), 'a-file');
		writeFileSync(file, 'not a directory');
		const message = fatalMessage(await runToExit({ DATA_DIR: join(file, 'data') }));
		expect(message).toBe(`cannot start: DATA_DIR ${join(file, 'data')} cannot be used (ENOTDIR): point it at a writable directory`);
	});
});

describe('faults that escaped every handler', () => {
	test('an unhandled stream error (a file gone under a pipe) costs that answer; the process keeps serving', async () => {
		const server = await startServerProcess(compiled, { LOG_LEVEL: 'info' }, { entry: 'faulty-entry.js' });
		try {
			const cut = await fetch(server.url + '/stream-error', { signal: AbortSignal.timeout(1500) }).then(
				(res) => res.text().then(() => 'complete', () => 'cut'),
				() => 'cut'
			);
			expect(cut).toBe('cut');
			expect((await fetch(server.url + '/healthz')).status).toBe(200);
			expect(await (await fetch(server.url + '/page')).text()).toBe('page');
			expect(server.child.exitCode).toBeNull();
			expect(server.log()).toContain('unhandled stream error (one stream lost; the server keeps running)');
		} finally {
			await server.stop();
		}
	});

	test('an exception outside any request is fatal: logged, then a drain and exit 1 for the supervisor to restart', async () => {
		const server = await startServerProcess(compiled, { LOG_LEVEL: 'info' }, { entry: 'faulty-entry.js' });
		try {
			expect(await (await fetch(server.url + '/bug')).text()).toBe('armed');
			expect((await server.exited).code).toBe(1);
			const lines = server.log().split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line));
			expect(lines.some((line) => line.level === 60 && line.msg === 'uncaught exception: draining and exiting' && line.err.message === 'a bug outside any request')).toBe(true);
			expect(lines.some((line) => line.msg === 'draining' && line.reason === 'fatal error')).toBe(true);
		} finally {
			await server.stop();
		}
	});
});
