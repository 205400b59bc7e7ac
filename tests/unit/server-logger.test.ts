import { Writable } from 'node:stream';
import { pino } from 'pino';
import { expect, test } from 'vitest';
import { createLogger } from '../../src/lib/server/logger.js';

test('logs redact payloads, bodies, tokens and passwords', () => {
	const lines: string[] = [];
	const sink = new Writable({
		write(chunk, _enc, done) {
			lines.push(String(chunk));
			done();
		}
	});
	const logger = createLogger('info', sink);
	logger.info({ payload: { body: 'secret text' }, topic: 'room:x' }, 'event');
	logger.info({ req: { headers: { authorization: 'Bearer abc.def' } }, token: 'abc.def', password: 'hunter2' }, 'auth');
	const text = lines.join('');
	expect(text).not.toContain('secret text');
	expect(text).not.toContain('abc.def');
	expect(text).not.toContain('hunter2');
	expect(text).toContain('room:x');
	expect(text.match(/\[redacted\]/g)?.length).toBe(4);
	expect(pino.levels.values.info).toBe(30);
});
