import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';

const E2E = 'tests/e2e';

test('every e2e spec takes `test` from tests/e2e/fixtures/test.ts, so each page is watched for CSP violations', () => {
	const files = readdirSync(E2E, { recursive: true, encoding: 'utf8' }).filter((f) => /\.ts$/.test(f) && !f.startsWith('fixtures/test.ts'));
	expect(files.filter((f) => f.endsWith('.spec.ts')).length).toBeGreaterThan(5);
	const offenders = files.filter((file) => {
		const source = readFileSync(join(E2E, file), 'utf8');
		// A value import from Playwright's own module (types only are fine).
		return /^import\s+(?!type\b)[^;]*from\s+'@playwright\/test'/m.test(source);
	});
	expect(offenders, 'import { test, expect } from the fixtures/test.js module instead').toEqual([]);
	const specs = files.filter((f) => f.endsWith('.spec.ts'));
	const unwatched = specs.filter((file) => !/from '(\.\.?\/)+(fixtures\/test|scenarios\/helpers|helpers)\.js'/.test(readFileSync(join(E2E, file), 'utf8')));
	expect(unwatched).toEqual([]);
});
