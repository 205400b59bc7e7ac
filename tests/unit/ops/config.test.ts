import { describe, expect, test } from 'vitest';
import { ConfigError, configFromEnv } from '../../../src/lib/server/config.js';

/** The ConfigError `configFromEnv(env)` throws (fails the test when it does not throw). */
function problemsOf(env: NodeJS.ProcessEnv): { variable: string; message: string }[] {
	try {
		configFromEnv(env);
	} catch (error) {
		expect(error).toBeInstanceOf(ConfigError);
		return (error as ConfigError).problems;
	}
	throw new Error(`configFromEnv(${JSON.stringify(env)}) accepted it`);
}

describe('settings are checked at start, each message naming its variable', () => {
	test('defaults need no environment at all', () => {
		const config = configFromEnv({});
		expect(config).toMatchObject({
			port: 3000,
			host: '0.0.0.0',
			dataDir: './data',
			databaseUrl: null,
			logLevel: 'info',
			trustProxy: 0,
			metricsToken: null,
			socketRateLimit: { perSecond: 100, burst: 300 },
			socketTokenTtlSeconds: 300,
			drainTimeoutMs: 10_000,
			devPages: false
		});
	});

	test('every setting is read', () => {
		const config = configFromEnv({
			PORT: '8080',
			HOST: '127.0.0.1',
			DATA_DIR: '/var/lib/outbox',
			LOG_LEVEL: 'warn',
			TOKEN_TTL_S: '3600',
			SOCKET_TOKEN_TTL_S: '60',
			DATABASE_URL: 'postgres://outbox:secret@db:5432/outbox',
			DATABASE_SCHEMA: 'chat',
			SECRET_KEY: 'x'.repeat(32),
			ALLOWED_ORIGINS: 'https://a.example.com, http://localhost:5173/',
			SOCKET_RATE_PER_S: '20.5',
			SOCKET_RATE_BURST: '50',
			TRUST_PROXY: '2',
			METRICS_TOKEN: 'm'.repeat(24),
			DRAIN_TIMEOUT_S: '3',
			OUTBOX_DEV_PAGES: '1'
		});
		expect(config).toMatchObject({
			port: 8080,
			host: '127.0.0.1',
			dataDir: '/var/lib/outbox',
			logLevel: 'warn',
			tokenTtlSeconds: 3600,
			socketTokenTtlSeconds: 60,
			databaseUrl: 'postgres://outbox:secret@db:5432/outbox',
			databaseSchema: 'chat',
			allowedOrigins: ['https://a.example.com', 'http://localhost:5173'],
			socketRateLimit: { perSecond: 20.5, burst: 50 },
			trustProxy: 2,
			metricsToken: 'm'.repeat(24),
			drainTimeoutMs: 3000,
			devPages: true
		});
	});

	test.each([
		['PORT', 'abc', /PORT must be an integer from 0 to 65535, got "abc"/],
		['PORT', '70000', /PORT must be an integer from 0 to 65535/],
		['LOG_LEVEL', 'verbose', /LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "verbose"/],
		['TOKEN_TTL_S', '0', /TOKEN_TTL_S must be an integer >= 1/],
		['SOCKET_TOKEN_TTL_S', '0', /SOCKET_TOKEN_TTL_S must be an integer from 1 to 3600/],
		['SOCKET_TOKEN_TTL_S', '86400', /SOCKET_TOKEN_TTL_S must be an integer from 1 to 3600/],
		['DATABASE_URL', 'mysql://db/outbox', /DATABASE_URL must look like postgres:\/\//],
		['DATABASE_URL', 'not a url', /DATABASE_URL must look like postgres:\/\//],
		['DATABASE_SCHEMA', 'Drop Table', /DATABASE_SCHEMA must be a plain lowercase identifier/],
		['SECRET_KEY', 'short', /SECRET_KEY must be at least 16 characters/],
		['SOCKET_RATE_PER_S', '0', /SOCKET_RATE_PER_S must be a positive number/],
		['SOCKET_RATE_PER_S', 'fast', /SOCKET_RATE_PER_S must be a positive number/],
		['SOCKET_RATE_BURST', '0.5', /SOCKET_RATE_BURST must be an integer >= 1/],
		['TRUST_PROXY', 'yes', /TRUST_PROXY must be an integer from 0 to 10/],
		['METRICS_TOKEN', 'weak', /METRICS_TOKEN must be at least 16 visible ASCII characters/],
		['ALLOWED_ORIGINS', 'chat.example.com', /ALLOWED_ORIGINS must list origins/],
		['DRAIN_TIMEOUT_S', '-1', /DRAIN_TIMEOUT_S must be an integer from 1 to 600/],
		['OUTBOX_DEV_PAGES', 'true', /OUTBOX_DEV_PAGES must be one of 0, 1/]
	])('%s=%s is refused with a message naming it', (variable, value, message) => {
		const problems = problemsOf({ [variable]: value });
		expect(problems).toHaveLength(1);
		expect(problems[0]!.variable).toBe(variable);
		expect(problems[0]!.message).toMatch(message);
	});

	test('all bad settings are reported at once, and the password in DATABASE_URL is never echoed', () => {
		const problems = problemsOf({ PORT: '-1', LOG_LEVEL: 'loud', DATABASE_URL: 'mysql://root:hunter2@db/x' });
		expect(problems.map((p) => p.variable)).toEqual(['DATABASE_URL', 'PORT', 'LOG_LEVEL']);
		expect(JSON.stringify(problems)).not.toContain('hunter2');
	});
});
