/**
 * A TCP proxy between client and server that can silence the server side of
 * the connections open right now (the "server stops answering" of a missed
 * heartbeat) while still carrying the client's bytes to the server.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface TcpProxy {
	port: number;
	/** Drop every server→client byte on the connections open now; later connections flow normally. */
	muteServerSide(): void;
	close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
	const pairs = new Set<{ client: Socket; upstream: Socket; muted: boolean }>();
	const server: Server = createServer((client) => {
		const upstream = connect(targetPort, '127.0.0.1');
		const pair = { client, upstream, muted: false };
		pairs.add(pair);
		client.on('data', (chunk) => upstream.write(chunk));
		upstream.on('data', (chunk) => {
			if (!pair.muted) client.write(chunk);
		});
		const end = () => {
			pairs.delete(pair);
			client.destroy();
			upstream.destroy();
		};
		for (const socket of [client, upstream]) {
			socket.on('close', end);
			socket.on('end', end);
			socket.on('error', end);
		}
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	return {
		port: (server.address() as AddressInfo).port,
		muteServerSide() {
			for (const pair of pairs) pair.muted = true;
		},
		close() {
			for (const pair of pairs) {
				pair.client.destroy();
				pair.upstream.destroy();
			}
			return new Promise((resolve) => server.close(() => resolve()));
		}
	};
}
