/**
 * One `info` line per HTTP request once its answer is done: method, path
 * (never the query string, where LongPoll and some clients put tokens),
 * status, duration and the client's address. No headers, no bodies.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../channels/types.js';

export function logAccess(logger: Logger, req: IncomingMessage, res: ServerResponse, startedAt: number, address: string): void {
	res.once('close', () => {
		const url = req.url ?? '/';
		const query = url.indexOf('?');
		logger.info(
			{
				method: req.method,
				path: query === -1 ? url : url.slice(0, query),
				status: res.statusCode,
				ms: Math.round((performance.now() - startedAt) * 10) / 10,
				ip: address,
				...(res.writableFinished ? {} : { aborted: true })
			},
			'http'
		);
	});
}
