// `npm run load -- floor`: the cost of the write system call alone, for
// comparison with `broadcast`: this process accepts --sockets plain TCP
// connections (no WebSocket, no channels) from a forked peer on 127.0.0.x,
// then writes a --bytes frame to every socket --messages times, one write
// each, and reports its own CPU (user and system) per write. A second pass
// writes --batch frames per socket per turn as one write, as the server does
// when a socket gets several frames in one turn.
import { fork } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { sleep } from '../harness.js';

export const standalone = true;
export const defaults = { sockets: 10_000, messages: 20, bytes: 300, batch: 5 };

export async function run({ options, report }) {
	const sockets = [];
	const server = net.createServer((socket) => {
		socket.setNoDelay(true);
		sockets.push(socket);
	});
	await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
	const peer = fork(fileURLToPath(new URL('../floor-peer.js', import.meta.url)), [String(server.address().port), String(options.sockets)]);
	const opened = await new Promise((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error('peer did not connect within 120 s')), 120_000);
		peer.once('message', (m) => (clearTimeout(timer), resolve(m.opened)));
	});
	await sleep(500);
	const frame = Buffer.alloc(options.bytes, 'x');
	const measure = async (name, rounds, write) => {
		const start = process.cpuUsage();
		for (let r = 0; r < rounds; r++) {
			for (const socket of sockets) write(socket);
			await sleep(50);
		}
		const used = process.cpuUsage(start);
		const deliveries = rounds * sockets.length * (name === 'batched' ? options.batch : 1);
		return report.step({
			step: name,
			sockets: sockets.length,
			deliveries,
			userPerDeliveryUs: +(used.user / deliveries).toFixed(2),
			systemPerDeliveryUs: +(used.system / deliveries).toFixed(2),
			cpuPerDeliveryUs: +((used.user + used.system) / deliveries).toFixed(2)
		});
	};
	const one = await measure('one write per delivery', options.messages, (socket) => socket.write(frame));
	const joined = Buffer.concat(Array.from({ length: options.batch }, () => frame));
	const batched = await measure('batched', Math.max(1, Math.round(options.messages / options.batch)), (socket) => socket.write(joined));
	peer.kill();
	for (const socket of sockets) socket.destroy();
	server.close();
	return report.step({ step: 'summary', opened, oneWritePerDeliveryUs: one.cpuPerDeliveryUs, batchedPerDeliveryUs: batched.cpuPerDeliveryUs, batch: options.batch });
}
