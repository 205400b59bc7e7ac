// A short soak, as `npm run soak` runs it (bench/load/soak.js): the real
// server in its own process, 200 sockets from a generator process with
// heartbeats, 5 % of them flapping per interval, steady traffic in 20 rooms,
// for 20 s at a 5 s interval. The tool's own verdict must be a pass: every
// message acked once and received once by every member of its room, in seq
// order, and one line per interval with the server's RSS and event-loop delay.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'outbox-soak-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('a 20-second soak of 200 sockets loses, duplicates and reorders nothing', async () => {
	const out = join(dir, 'soak.jsonl');
	const args = ['bench/load/soak.js', '--sockets', '200', '--rooms', '20', '--users', '20', '--rate', '10', '--flap-percent', '5', '--minutes', String(20 / 60), '--interval-s', '5', '--seed', '12', '--out', out];
	const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
	let output = '';
	child.stdout.on('data', (d) => (output += d));
	child.stderr.on('data', (d) => (output += d));
	const code = await new Promise((resolve) => child.once('exit', resolve));
	expect(code, output).toBe(0);

	const lines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
	expect(lines.map((l) => l.step)).toEqual(['start', 'connected', 'interval', 'interval', 'interval', 'interval', 'summary']);
	expect(lines[0].seed).toBe(12);
	for (const line of lines.filter((l) => l.step === 'interval')) {
		expect(line.serverRssMB).toBeGreaterThan(0);
		expect(typeof line.eventLoopDelayMs.p99).toBe('number');
		expect(line.joined).toBeGreaterThan(0);
	}
	const summary = lines.at(-1);
	expect(summary).toMatchObject({ sockets: 200, socketsChecked: 200, lost: 0, duplicated: 0, reordered: 0, unackedAtEnd: 0, missingDeliveries: 0, roomProblems: [], busyAfterDrain: 0, verdict: 'pass' });
	expect(summary.sent).toBeGreaterThan(100);
	expect(summary.acked).toBe(summary.sent);
	// 5 % of 200 sockets per 5 s interval: about 40 flaps, each a reconnect, a rejoin and a
	// sync; about half of them cut a socket whose send was just written, which it sends again.
	expect(summary.flaps).toBeGreaterThan(20);
	expect(summary.reconnects).toBeGreaterThanOrEqual(summary.flaps);
	expect(summary.flapsMidSend).toBeGreaterThan(0);
	expect(summary.resent).toBeGreaterThanOrEqual(summary.flapsMidSend);
	// Every other member of a message's room got it live, unless it was away: 9 other members per message.
	expect(summary.delivered).toBeGreaterThan(summary.sent * 5);
	expect(output).toContain('soak passed (seed 12)');
}, 120_000);
