import { describe, expect, it } from 'vitest';
import { toStorageError } from '../../../../src/lib/outbox/adapters/localforage-storage.js';
import { itemKey, itemRange, metaKey, namespacePrefix } from '../../../../src/lib/outbox/adapters/storage-layout.js';
import { StorageError } from '../../../../src/lib/outbox/ports.js';

const inRange = (key: string, range: { lower: string; upper: string }) => key >= range.lower && key <= range.upper;

describe('storage layout', () => {
	it('keys one item per key under the user namespace, meta beside them', () => {
		expect(itemKey('u1', '01HX')).toBe('u1/q/01HX');
		expect(metaKey('u1', 'cursor:room:lobby')).toBe('u1/m/cursor:room:lobby');
		expect(namespacePrefix('a/b')).toBe('a%2Fb/');
	});

	it("a namespace's item range holds its items only: not its meta, not a namespace that shares a prefix", () => {
		const range = itemRange('u1');
		expect(inRange(itemKey('u1', 'zzzz-last'), range)).toBe(true);
		expect(inRange(itemKey('u1', '0'), range)).toBe(true);
		expect(inRange(metaKey('u1', 'cursor'), range)).toBe(false);
		expect(inRange(itemKey('u10', 'x'), range)).toBe(false);
		expect(inRange(itemKey('u', 'x'), range)).toBe(false);
		expect(inRange(itemKey('a/b', 'x'), itemRange('a'))).toBe(false);
	});

	it('refuses an empty namespace: a queue always belongs to a user', () => {
		expect(() => itemKey('', 'x')).toThrow(TypeError);
	});
});

describe('toStorageError', () => {
	it.each([
		[new DOMException('full', 'QuotaExceededError'), 'quota'],
		[{ name: 'NS_ERROR_DOM_QUOTA_REACHED', message: 'full' }, 'quota'],
		[{ name: 'Error', code: 22 }, 'quota'],
		[new DOMException('closed', 'InvalidStateError'), 'unavailable'],
		[new Error('No available storage method found.'), 'unavailable'],
		[undefined, 'unavailable']
	])('%o -> %s', (error, kind) => {
		const mapped = toStorageError(error, 'putMany');
		expect(mapped).toBeInstanceOf(StorageError);
		expect(mapped.kind).toBe(kind);
		expect(mapped.message).toContain('putMany');
		expect(mapped.cause).toBe(error);
	});

	it('passes a StorageError through unchanged', () => {
		const original = new StorageError('quota', 'already mapped');
		expect(toStorageError(original, 'x')).toBe(original);
	});
});
