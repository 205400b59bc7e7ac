/**
 * Server configuration from the environment, checked once at start.
 * Every knob has a default that works on a laptop with no other service.
 */
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
	/** Extra origins allowed to open the socket (the server's own always is). */
	allowedOrigins: string[];
	logLevel: string;
	/** Seconds between sweeps for uploads no message names after 24 h (`UPLOAD_SWEEP_INTERVAL_S`, default 3600; 0: never). */
	uploadSweepIntervalS?: number;
}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
	const raw = env[name];
	if (raw === undefined || raw === '') return fallback;
	const value = Number(raw);
	if (!Number.isInteger(value) || value < min) {
		throw new Error(`${name} must be an integer >= ${min}, got ${JSON.stringify(raw)}`);
	}
	return value;
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): ServerConfig {
	return {
		port: int(env, 'PORT', 3000, 0),
		host: env.HOST || '0.0.0.0',
		dataDir: env.DATA_DIR || './data',
		databaseUrl: env.DATABASE_URL || null,
		databaseSchema: env.DATABASE_SCHEMA || 'public',
		secretKey: env.SECRET_KEY || null,
		tokenTtlSeconds: int(env, 'TOKEN_TTL_S', 7 * 24 * 3600, 1),
		allowedOrigins: (env.ALLOWED_ORIGINS ?? '')
			.split(',')
			.map((s) => s.trim())
			.filter(Boolean),
		logLevel: env.LOG_LEVEL || (env.NODE_ENV === 'test' ? 'silent' : 'info'),
		uploadSweepIntervalS: int(env, 'UPLOAD_SWEEP_INTERVAL_S', 3600, 0)
	};
}
