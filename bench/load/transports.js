// `node bench/load/transports.js <ws|uws> [sockets] [rounds]`: the WebSocket
// server library alone, side by side, for choosing the transport: server RSS
// per connected socket, and server CPU per delivery for `rounds` broadcasts
// of 300 bytes to every socket (ws: one pre-built frame written to each
// socket, as the channel server does; uws: uWebSockets.js's own publish).
// The clients are a forked `ws` process on 127.0.0.8 with explicit ports.
//
// `uws` needs uWebSockets.js, which is not a dependency of the project:
//   npm install --no-save @trufflesuite/uws-js-unofficial@20.30.0-unofficial.0
import { fork } from 'node:child_process';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const [kind, sockets = '10000', rounds = '20', port] = process.argv.slice(2);
const n = Number(sockets);
const r = Number(rounds);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

if (kind === 'client') {
	const { WebSocket } = require('ws');
	let open = 0;
	let next = 0;
	let got = 0;
	const openOne = () => {
		if (next >= n) return;
		const i = next++;
		const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { localAddress: '127.0.0.8', localPort: 12_000 + i, perMessageDeflate: false });
		ws.on('open', () => {
			if (++open === n) process.send('open');
			openOne();
		});
		ws.on('message', () => got++);
		ws.on('error', (err) => console.error(err.code));
	};
	for (let c = 0; c < 200; c++) openOne();
	process.on('message', (m) => (m === 'got' ? process.send({ got }) : process.exit(0)));
} else if (kind === 'ws' || kind === 'uws') {
	const payload = Buffer.alloc(300, 'x');
	let broadcast;
	let listenPort;
	if (kind === 'uws') {
		let uWS;
		try {
			uWS = require('@trufflesuite/uws-js-unofficial');
		} catch {
			throw new Error('uws needs: npm install --no-save @trufflesuite/uws-js-unofficial@20.30.0-unofficial.0');
		}
		const app = uWS.App().ws('/*', { compression: 0, maxPayloadLength: 1 << 20, idleTimeout: 0, open: (ws) => ws.subscribe('room') });
		listenPort = await new Promise((resolve) => app.listen('127.0.0.1', 0, (token) => resolve(uWS.us_socket_local_port(token))));
		broadcast = () => app.publish('room', payload, false);
	} else {
		const { WebSocketServer } = require('ws');
		const http = createServer();
		const wss = new WebSocketServer({ noServer: true, clientTracking: false, perMessageDeflate: false });
		const all = [];
		http.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => all.push(ws)));
		await new Promise((resolve) => http.listen(0, '127.0.0.1', resolve));
		listenPort = http.address().port;
		const frame = Buffer.concat([Buffer.from([0x81, 126, 1, 44]), payload]);
		broadcast = () => {
			for (const ws of all) ws._socket.write(frame);
		};
	}
	await sleep(500);
	const rss0 = process.memoryUsage.rss();
	const child = fork(fileURLToPath(import.meta.url), ['client', sockets, rounds, String(listenPort)]);
	await new Promise((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error('clients did not connect within 120 s')), 120_000);
		child.on('message', (m) => m === 'open' && (clearTimeout(timer), resolve()));
	});
	await sleep(1000);
	const rss1 = process.memoryUsage.rss();
	const before = process.cpuUsage();
	for (let i = 0; i < r; i++) {
		broadcast();
		await sleep(100);
	}
	const used = process.cpuUsage(before);
	child.send('got');
	const { got } = await new Promise((resolve) => child.on('message', (m) => typeof m === 'object' && resolve(m)));
	const per = (us) => +(us / (n * r)).toFixed(2);
	console.log(JSON.stringify({ kind, sockets: n, rssPerSocketKB: +((rss1 - rss0) / n / 1024).toFixed(2), deliveries: got, userPerDeliveryUs: per(used.user), systemPerDeliveryUs: per(used.system), cpuPerDeliveryUs: per(used.user + used.system) }));
	child.send('exit');
	process.exit(0);
} else {
	throw new Error('usage: node bench/load/transports.js <ws|uws> [sockets] [rounds]');
}
