/** Structured logs (pino). Payloads, bodies, tokens and passwords are redacted. */
import { pino, type DestinationStream } from 'pino';

export function createLogger(level: string, destination?: DestinationStream) {
	return pino({
		level,
		redact: {
			paths: ['payload', '*.payload', 'body', '*.body', 'token', '*.token', 'password', '*.password', 'req.headers.authorization', 'req.headers.cookie'],
			censor: '[redacted]'
		}
	}, destination);
}

/**
 * The logging every server part takes (pino's shape, a small subset of it),
 * so the channel layer, the pub/sub and the stores depend on this interface,
 * never on pino or on each other.
 */
export interface Logger {
	debug(obj: object, msg?: string): void;
	info(obj: object, msg?: string): void;
	warn(obj: object, msg?: string): void;
	error(obj: object, msg?: string): void;
}

const noop = () => {};
/** A logger that says nothing: the default where none is given. */
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };
