/**
 * A TCP pass-through that can kill every connection open right now, the way a
 * dead Wi-Fi link or a NAT timeout would: the sockets are destroyed without a
 * WebSocket close frame, so the client sees an abnormal close (1006).
 */
import { connect, createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface TcpCutter {
	port: number;
	/** Connections open now. */
	readonly open: number;
	/** Destroy every open connection (both sides); returns how many. */
	cutAll(): number;
	close(): Promise<void>;
}

export async function startTcpCutter(targetPort: number): Promise<TcpCutter> {
	const pairs = new Set<[Socket, Socket]>();
	const server = createServer((client) => {
		const upstream = connect(targetPort, '127.0.0.1');
		const pair: [Socket, Socket] = [client, upstream];
		pairs.add(pair);
		client.pipe(upstream);
		upstream.pipe(client);
		const end = () => {
			pairs.delete(pair);
			client.destroy();
			upstream.destroy();
		};
		for (const socket of pair) {
			socket.on('close', end);
			socket.on('error', end);
		}
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const cutter: TcpCutter = {
		port: (server.address() as AddressInfo).port,
		get open() {
			return pairs.size;
		},
		cutAll() {
			const n = pairs.size;
			for (const [client, upstream] of [...pairs]) {
				client.destroy();
				upstream.destroy();
			}
			pairs.clear();
			return n;
		},
		close() {
			cutter.cutAll();
			return new Promise((resolve) => server.close(() => resolve()));
		}
	};
	return cutter;
}
