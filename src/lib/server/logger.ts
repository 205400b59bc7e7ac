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
