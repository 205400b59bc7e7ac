// The receiving end of `npm run load -- floor`: opens N plain TCP connections
// from 127.0.0.2 with explicit source ports, reads and drops what comes.
import net from 'node:net';

const [port, count] = process.argv.slice(2).map(Number);
let opened = 0;
let next = 0;
const deadline = Date.now() + 120_000;
const openOne = () => {
	if (next >= count || Date.now() > deadline) return;
	const i = next++;
	const socket = net.connect({ port, host: '127.0.0.1', localAddress: '127.0.0.2', localPort: 10_000 + i });
	socket.on('connect', () => {
		if (++opened === count) process.send({ opened });
		openOne();
	});
	socket.on('data', () => {});
	socket.on('error', () => openOne());
};
for (let c = 0; c < Math.min(200, count); c++) openOne();
