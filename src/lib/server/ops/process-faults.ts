/**
 * The last line of defence, for faults that escaped every request and
 * socket handler. A promise nobody awaited is logged and the process goes
 * on: no code was cut off half-way. An `error` event nobody listened for
 * on an I/O object (a file or socket stream: it carries a system error
 * code) cost that one stream, so it is logged and the process goes on. Any
 * other exception may have left state half-changed: it is logged as
 * `fatal` and the server drains and exits 1, for the supervisor to restart.
 */
import type { Logger } from '../channels/types.js';

/** System error codes of streams and sockets that can only have hurt the one stream that emitted them. */
const STREAM_CODES = new Set([
	'ENOENT',
	'EISDIR',
	'EACCES',
	'EPERM',
	'EPIPE',
	'ECONNRESET',
	'ECONNABORTED',
	'ETIMEDOUT',
	'EIO',
	'ERR_STREAM_PREMATURE_CLOSE',
	'ERR_STREAM_DESTROYED',
	'ERR_STREAM_WRITE_AFTER_END'
]);

/** True for an error an unhandled stream `error` event carries. */
export function isStreamError(err: unknown): boolean {
	if (!(err instanceof Error)) return false;
	const code = (err as NodeJS.ErrnoException).code;
	return code !== undefined && STREAM_CODES.has(code);
}

export function installFaultHandlers(logger: Logger & { fatal?(obj: object, msg?: string): void }, onFatal: (err: unknown) => void): () => void {
	const onRejection = (reason: unknown) => logger.error({ err: reason }, 'unhandled promise rejection (the server keeps running)');
	const onException = (err: unknown) => {
		if (isStreamError(err)) {
			logger.error({ err }, 'unhandled stream error (one stream lost; the server keeps running)');
			return;
		}
		(logger.fatal ?? logger.error).call(logger, { err }, 'uncaught exception: draining and exiting');
		onFatal(err);
	};
	process.on('unhandledRejection', onRejection);
	process.on('uncaughtException', onException);
	return () => {
		process.off('unhandledRejection', onRejection);
		process.off('uncaughtException', onException);
	};
}
