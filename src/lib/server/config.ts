/**
 * Server configuration from the environment, checked once at start. Every
 * knob has a default that works on a laptop with no other service; a bad
 * value stops the start with a `ConfigError` naming each variable at fault,
 * so a deployer reads "PORT must be …", never a stack from deep inside.
 */
import { SCHEMA_RE } from './store/schema-name.js';

export interface ServerConfig {
	port: number;
	host: string;
	dataDir: string;
	/** PostgreSQL instead of the embedded SQLite when set. */
	databaseUrl: string | null;
	/** PostgreSQL schema for the tables and the NOTIFY channel (default `public`); lets clusters share one database. */
	databaseSchema?: string;
	secretKey: string | null;
	tokenTtlSeconds: number;
	/** Lifetime of the socket tokens page scripts get from `POST /api/socket-token` (`SOCKET_TOKEN_TTL_S`, default 300, at most 3600). */
	socketTokenTtlSeconds?: number;
	/** Extra origins allowed to open the socket (the server's own always is). */
	allowedOrigins: string[];
	logLevel: string;
	/**
	 * How many reverse proxies stand in front (`TRUST_PROXY`, 0 = none): the
	 * client address is that many entries from the right of
	 * `X-Forwarded-For`, the scheme comes from `X-Forwarded-Proto`.
	 */
	trustProxy?: number;
	/** `GET /metrics` answers only `Authorization: Bearer <this>` when set; loopback callers otherwise. */
	metricsToken?: string | null;
	/** Channel events per socket: refill per second and burst (`SOCKET_RATE_PER_S`, `SOCKET_RATE_BURST`). */
	socketRateLimit?: { perSecond: number; burst: number };
	/** How long SIGTERM waits for in-flight requests and events before closing anyway (`DRAIN_TIMEOUT_S`). */
	drainTimeoutMs?: number;
	/** Serve the `/dev/*` test pages in production (`OUTBOX_DEV_PAGES=1`). */
	devPages?: boolean;
	/** Seconds between sweeps for uploads no message names after 24 h (`UPLOAD_SWEEP_INTERVAL_S`, default 3600; 0: never). */
	uploadSweepIntervalS?: number;
}

/** Every bad setting at once, each naming its variable. */
export class ConfigError extends Error {
	constructor(readonly problems: { variable: string; message: string }[]) {
		super(problems.map((p) => p.message).join('; '));
		this.name = 'ConfigError';
	}
}

/** pino's levels, plus `silent`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const DEFAULT_SOCKET_RATE = { perSecond: 100, burst: 300 };
export const DEFAULT_DRAIN_TIMEOUT_S = 10;

/** Reads variables and records what is wrong with them instead of throwing at the first. */
class EnvReader {
	readonly problems: { variable: string; message: string }[] = [];
	constructor(private readonly env: NodeJS.ProcessEnv) {}

	raw(name: string): string | undefined {
		const value = this.env[name];
		return value === undefined || value === '' ? undefined : value;
	}

	fail(variable: string, expected: string): void {
		this.problems.push({ variable, message: `${variable} ${expected}, got ${JSON.stringify(this.env[variable])}` });
	}

	int(name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
		const raw = this.raw(name);
		if (raw === undefined) return fallback;
		const value = Number(raw);
		if (!/^\s*-?\d+\s*$/.test(raw) || value < min || value > max) {
			this.fail(name, max === Number.MAX_SAFE_INTEGER ? `must be an integer >= ${min}` : `must be an integer from ${min} to ${max}`);
			return fallback;
		}
		return value;
	}

	positive(name: string, fallback: number): number {
		const raw = this.raw(name);
		if (raw === undefined) return fallback;
		const value = Number(raw);
		if (!(Number.isFinite(value) && value > 0)) {
			this.fail(name, 'must be a positive number');
			return fallback;
		}
		return value;
	}

	oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
		const raw = this.raw(name);
		if (raw === undefined) return fallback;
		if (!(allowed as readonly string[]).includes(raw)) {
			this.fail(name, `must be one of ${allowed.join(', ')}`);
			return fallback;
		}
		return raw as T;
	}
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): ServerConfig {
	const read = new EnvReader(env);
	const databaseUrl = read.raw('DATABASE_URL') ?? null;
	if (databaseUrl !== null && !isPostgresUrl(databaseUrl)) {
		read.problems.push({ variable: 'DATABASE_URL', message: 'DATABASE_URL must look like postgres://user:password@host:5432/database' });
	}
	const databaseSchema = read.raw('DATABASE_SCHEMA') ?? 'public';
	if (!SCHEMA_RE.test(databaseSchema)) read.fail('DATABASE_SCHEMA', 'must be a plain lowercase identifier (a-z, 0-9, _)');
	const secretKey = read.raw('SECRET_KEY') ?? null;
	if (secretKey !== null && secretKey.length < 16) {
		read.problems.push({ variable: 'SECRET_KEY', message: `SECRET_KEY must be at least 16 characters (it has ${secretKey.length})` });
	}
	const metricsToken = read.raw('METRICS_TOKEN') ?? null;
	if (metricsToken !== null && !/^[\x21-\x7e]{16,}$/.test(metricsToken)) {
		read.problems.push({ variable: 'METRICS_TOKEN', message: 'METRICS_TOKEN must be at least 16 visible ASCII characters, no spaces' });
	}
	const allowedOrigins = (read.raw('ALLOWED_ORIGINS') ?? '')
		.split(',')
		.map((s) => s.trim())
		.filter(Boolean);
	for (const origin of allowedOrigins) {
		if (!isOrigin(origin)) read.fail('ALLOWED_ORIGINS', `must list origins such as https://chat.example.com (bad entry ${JSON.stringify(origin)})`);
	}
	const devPages = read.oneOf('OUTBOX_DEV_PAGES', ['0', '1'], '0') === '1';
	const perSecond = read.positive('SOCKET_RATE_PER_S', DEFAULT_SOCKET_RATE.perSecond);
	const burst = read.int('SOCKET_RATE_BURST', DEFAULT_SOCKET_RATE.burst, 1);

	const config: ServerConfig = {
		port: read.int('PORT', 3000, 0, 65535),
		host: read.raw('HOST') ?? '0.0.0.0',
		dataDir: read.raw('DATA_DIR') ?? './data',
		databaseUrl,
		databaseSchema,
		secretKey,
		tokenTtlSeconds: read.int('TOKEN_TTL_S', 7 * 24 * 3600, 1),
		socketTokenTtlSeconds: read.int('SOCKET_TOKEN_TTL_S', 300, 1, 3600),
		allowedOrigins: allowedOrigins.filter(isOrigin).map((origin) => new URL(origin).origin),
		logLevel: read.oneOf('LOG_LEVEL', LOG_LEVELS, env.NODE_ENV === 'test' ? 'silent' : 'info'),
		trustProxy: read.int('TRUST_PROXY', 0, 0, 10),
		metricsToken,
		socketRateLimit: { perSecond, burst },
		drainTimeoutMs: read.int('DRAIN_TIMEOUT_S', DEFAULT_DRAIN_TIMEOUT_S, 1, 600) * 1000,
		devPages,
		uploadSweepIntervalS: read.int('UPLOAD_SWEEP_INTERVAL_S', 3600, 0)
	};
	if (read.problems.length) throw new ConfigError(read.problems);
	return config;
}

function isPostgresUrl(value: string): boolean {
	try {
		const url = new URL(value);
		return (url.protocol === 'postgres:' || url.protocol === 'postgresql:') && url.hostname !== '';
	} catch {
		return false;
	}
}

function isOrigin(value: string): boolean {
	try {
		const url = new URL(value);
		return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === value.replace(/\/+$/, '');
	} catch {
		return false;
	}
}
