/**
 * Logs are JSON lines only: anything a library prints with `console.*`
 * (SvelteKit's adapter, a dependency's warning) goes through the logger as
 * one line at the matching level, its colours stripped.
 */
import { format } from 'node:util';
import type { Logger } from '../channels/types.js';

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;

export function routeConsoleToLogger(logger: Logger): void {
	const line = (level: 'debug' | 'info' | 'warn' | 'error') => (...args: unknown[]) =>
		logger[level]({ source: 'console' }, format(...args).replace(ANSI, ''));
	console.log = line('info');
	console.info = line('info');
	console.warn = line('warn');
	console.error = line('error');
	console.debug = line('debug');
	console.trace = line('debug');
}
