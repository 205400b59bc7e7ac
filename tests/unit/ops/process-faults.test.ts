import { expect, test } from 'vitest';
import { isStreamError } from '../../../src/lib/server/ops/process-faults.js';

const withCode = (code: string, message = code) => Object.assign(new Error(message), { code });

test('an unhandled stream error (a vanished file, a reset peer) is survivable; a bug is not', () => {
	expect(isStreamError(withCode('ENOENT', "ENOENT: no such file or directory, open 'build/client/x.js.br'"))).toBe(true);
	expect(isStreamError(withCode('ECONNRESET'))).toBe(true);
	expect(isStreamError(withCode('EPIPE'))).toBe(true);
	expect(isStreamError(withCode('ERR_STREAM_PREMATURE_CLOSE'))).toBe(true);
	expect(isStreamError(new TypeError("Cannot read properties of undefined (reading 'id')"))).toBe(false);
	expect(isStreamError(withCode('ERR_INVALID_ARG_TYPE'))).toBe(false);
	expect(isStreamError('ENOENT')).toBe(false);
});
