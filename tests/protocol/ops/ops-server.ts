/**
 * `runServer` (what `npm start` runs, minus the SvelteKit pages) in this
 * process on a free port, its JSON log lines captured for assertions.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { configFromEnv, type ServerConfig } from '../../../src/lib/server/config.js';
import { createLogger } from '../../../src/lib/server/logger.js';
import { runServer, type RunServerOptions, type RunningServer } from '../../../src/lib/server/ops/run-server.js';

export interface OpsServer {
	readonly server: RunningServer;
	readonly url: string;
	readonly dataDir: string;
	/** Every log line so far, parsed. */
	logs(): Array<Record<string, unknown>>;
	signIn(name: string, headers?: Record<string, string>): Promise<{ token: string; user: { id: string; name: string } }>;
	close(): Promise<void>;
}

export async function startOpsServer(overrides: Partial<ServerConfig> = {}, options: RunServerOptions = {}): Promise<OpsServer> {
	const dataDir = overrides.dataDir ?? mkdtempSync(join(tmpdir(), 'outbox-ops-'));
	const lines: string[] = [];
	const sink = new Writable({
		write(chunk, _encoding, done) {
			lines.push(...String(chunk).split('\n').filter(Boolean));
			done();
		}
	});
	const config: ServerConfig = { ...configFromEnv({}), port: 0, host: '127.0.0.1', logLevel: 'debug', ...overrides, dataDir };
	const server = await runServer(config, { logger: createLogger(config.logLevel, sink), processMetrics: false, ...options });
	return {
		server,
		url: server.url,
		dataDir,
		logs: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
		async signIn(name, headers = {}) {
			const res = await fetch(server.url + '/api/session', {
				method: 'POST',
				headers: { 'content-type': 'application/json', ...headers },
				body: JSON.stringify({ name, password: `pw-${name}` })
			});
			if (res.status !== 200) throw new Error(`sign-in ${name}: ${res.status} ${await res.text()}`);
			return res.json();
		},
		async close() {
			await server.stop('test over');
			if (!overrides.dataDir) rmSync(dataDir, { recursive: true, force: true });
		}
	};
}
