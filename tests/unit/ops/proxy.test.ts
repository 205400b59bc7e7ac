import type { IncomingMessage } from 'node:http';
import { describe, expect, test } from 'vitest';
import { clientAddress, isLoopback, isSecureRequest } from '../../../src/lib/server/http/proxy.js';

function request(headers: Record<string, string | string[]>, remoteAddress = '10.0.0.9', encrypted = false): IncomingMessage {
	return { headers, socket: { remoteAddress, encrypted } } as unknown as IncomingMessage;
}

describe('TRUST_PROXY: the client address and scheme behind N proxies', () => {
	test('without trusted proxies the forwarded headers are ignored (anyone could send them)', () => {
		const req = request({ 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'https' });
		expect(clientAddress(req, 0)).toBe('10.0.0.9');
		expect(isSecureRequest(req, 0)).toBe(false);
	});

	test('one proxy: the entry it appended (rightmost), not what the client claimed to the left', () => {
		const req = request({ 'x-forwarded-for': '1.2.3.4, 203.0.113.7', 'x-forwarded-proto': 'https' });
		expect(clientAddress(req, 1)).toBe('203.0.113.7');
		expect(isSecureRequest(req, 1)).toBe(true);
	});

	test('two proxies: the second entry from the right; repeated headers are one list', () => {
		const req = request({ 'x-forwarded-for': ['6.6.6.6, 198.51.100.2', '10.0.0.5'] });
		expect(clientAddress(req, 2)).toBe('198.51.100.2');
	});

	test('a trusted proxy that sent no header: the socket address; fewer entries than proxies: the leftmost', () => {
		expect(clientAddress(request({}), 1)).toBe('10.0.0.9');
		expect(clientAddress(request({ 'x-forwarded-for': '198.51.100.2' }), 3)).toBe('198.51.100.2');
	});

	test('TLS on our own socket is secure whatever the headers say; http from the proxy is not', () => {
		expect(isSecureRequest(request({}, '10.0.0.9', true), 0)).toBe(true);
		expect(isSecureRequest(request({ 'x-forwarded-proto': 'http' }), 1)).toBe(false);
		expect(isSecureRequest(request({ 'x-forwarded-proto': 'HTTPS' }), 1)).toBe(true);
	});

	test.each([
		['127.0.0.1', true],
		['127.3.4.5', true],
		['::1', true],
		['::ffff:127.0.0.1', true],
		['10.0.0.1', false],
		['::ffff:192.168.1.2', false],
		['128.0.0.1', false],
		['unknown', false]
	])('isLoopback(%s) is %s', (address, expected) => {
		expect(isLoopback(address)).toBe(expected);
	});
});
