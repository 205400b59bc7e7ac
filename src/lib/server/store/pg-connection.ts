/**
 * How the PostgreSQL store and pub/sub open connections: one schema per
 * deployment (or per test run), set as the connection's `search_path` at
 * startup so every statement, prepared or not, resolves there.
 */
import pg from 'pg';

import { SCHEMA_RE } from './schema-name.js';

export { SCHEMA_RE };

const INT8_OID = 20;

// Ids, seqs and change counters are bigint columns; they stay far below 2^53,
// so they come back as numbers instead of pg's default strings. Per pool, not
// global: other users of `pg` in the process keep the default.
const TYPES = {
	getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
		oid === INT8_OID && format !== 'binary' ? Number : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser
};

export interface PgConnectionOptions {
	/** `postgres://user:password@host:port/database` */
	connectionString: string;
	/** Schema holding the tables (created when missing); default `public`. */
	schema?: string;
}

/** Throws a TypeError that says how to call it right. */
export function checkConnectionOptions(who: string, options: PgConnectionOptions): string {
	if (typeof options?.connectionString !== 'string' || !/^postgres(ql)?:\/\//.test(options.connectionString)) {
		throw new TypeError(`${who} needs { connectionString: 'postgres://user@host:5432/db' }`);
	}
	const schema = options.schema ?? 'public';
	if (!SCHEMA_RE.test(schema)) {
		throw new TypeError(`${who}: schema must match ${SCHEMA_RE} (a plain lowercase identifier), got ${JSON.stringify(schema)}`);
	}
	return schema;
}

/** Client settings for `pg.Client` / `pg.Pool`: search_path pinned to `schema`, bigint as number. */
export function clientConfig(connectionString: string, schema: string, applicationName: string): pg.ClientConfig {
	return {
		connectionString,
		options: `-c search_path=${schema}`,
		application_name: applicationName.slice(0, 63),
		types: TYPES
	};
}

/** `"name"`, for the few statements that take an identifier (CREATE SCHEMA, LISTEN). */
export function quoteIdent(name: string): string {
	return `"${name.replaceAll('"', '""')}"`;
}

/** The URL without its password, for error messages and logs. */
export function redactUrl(connectionString: string): string {
	try {
		const url = new URL(connectionString);
		if (url.password) url.password = '***';
		return url.toString();
	} catch {
		return '(unparseable DATABASE_URL)';
	}
}

/**
 * Whether an error means the connection itself is gone (as opposed to one
 * statement failing): no SQLSTATE at all, class 08 (connection exception) or
 * 57P0x (the server is shutting down or terminated this backend).
 */
export function isConnectionError(error: unknown): boolean {
	const code = (error as { code?: unknown } | null)?.code;
	if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) return true;
	return code.startsWith('08') || code.startsWith('57P0');
}

/** A connect failure as an Error that says where and what to do. */
export function connectError(who: string, connectionString: string, cause: unknown): Error {
	const reason = cause instanceof Error ? cause.message : String(cause);
	return new Error(
		`${who}: cannot connect to PostgreSQL at ${redactUrl(connectionString)} (${reason}). ` +
			'Start the server, fix DATABASE_URL, or unset DATABASE_URL to use the embedded SQLite database.',
		{ cause }
	);
}

/** Run `work` in one transaction opened with `begin`: COMMIT when it resolves, ROLLBACK when it throws. */
export async function inTransaction<T>(pool: pg.Pool, begin: string, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
	const client = await pool.connect();
	let broken: Error | undefined;
	// A checked-out client whose connection drops (PostgreSQL restarting) emits `error` besides
	// failing its query; unheard, that event would crash the process. The client is then dropped.
	const dropped = (error: Error) => (broken = error);
	client.on('error', dropped);
	try {
		await client.query(begin);
		const result = await work(client);
		await client.query('COMMIT');
		return result;
	} catch (error) {
		// A client that cannot even roll back is dropped from the pool.
		await client.query('ROLLBACK').catch((e: Error) => (broken = e));
		throw error;
	} finally {
		client.removeListener('error', dropped);
		client.release(broken);
	}
}
