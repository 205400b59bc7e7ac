/**
 * How a start that failed is told: a setting or a port the user can fix is
 * one `fatal` line that names it and says what to do, with no stack; any
 * other failure is logged with its stack. Then the process exits 1.
 */
import { ConfigError } from '../config.js';
import { createLogger } from '../logger.js';
import { ListenError } from './listen.js';

export function exitOnStartFailure(error: unknown): never {
	const message = error instanceof Error ? error.message : String(error);
	const expected = error instanceof ConfigError || error instanceof ListenError || /DATABASE_URL/.test(message);
	const logger = createLogger('info');
	if (expected) logger.fatal({ problems: error instanceof ConfigError ? error.problems : undefined }, `cannot start: ${message}`);
	else logger.fatal({ err: error }, 'cannot start');
	process.exit(1);
}
