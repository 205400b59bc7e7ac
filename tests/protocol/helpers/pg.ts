/**
 * The PostgreSQL the protocol tests use: `TEST_DATABASE_URL` (default
 * `postgres://postgres@127.0.0.1:5432/test`, which `npm test` starts or
 * installs through `scripts/postgres.js`). Each run works in a fresh schema
 * and drops it afterwards, so runs never see each other's rows, even when
 * several share one server at the same time.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';

/** Run one statement on a short-lived connection; fails with a how-to when PostgreSQL is not there. */
export async function adminQuery<R extends pg.QueryResultRow = pg.QueryResultRow>(
	text: string,
	values: unknown[] = []
): Promise<R[]> {
	const client = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 5000 });
	try {
		await client.connect();
	} catch (error) {
		await client.end().catch(() => {});
		throw new Error(
			`PostgreSQL is not reachable at ${TEST_DATABASE_URL} (${(error as Error).message}). ` +
				'Run the tests through `npm test` (it starts PostgreSQL, or installs it as root on Debian: see scripts/postgres.js), ' +
				'run `node scripts/postgres.js`, or set TEST_DATABASE_URL to a server you can use.'
		);
	}
	try {
		return (await client.query<R>(text, values)).rows;
	} finally {
		await client.end();
	}
}

/** A new schema name, unique to this run (`t_<prefix>_<random>`); created by whoever opens it first. */
export function freshSchema(prefix: string): string {
	return `t_${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
}

/** Drop schemas made by `freshSchema`, with everything in them. */
export async function dropSchemas(names: string[]): Promise<void> {
	for (const name of names) {
		if (!/^t_[a-z0-9_]+$/.test(name)) throw new Error(`refusing to drop ${name}: not a test schema`);
		await adminQuery(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
	}
}
