/**
 * Listen, and turn the usual failures into a sentence that names the
 * setting and says what to do: a raw `EADDRINUSE` stack helps nobody.
 */
import type { Server } from 'node:http';

export class ListenError extends Error {
	constructor(
		message: string,
		readonly code: string | undefined
	) {
		super(message);
		this.name = 'ListenError';
	}
}

/** Resolves with the port bound (useful with PORT=0). */
export function listen(server: Server, port: number, host: string): Promise<number> {
	return new Promise((resolve, reject) => {
		const onError = (err: NodeJS.ErrnoException) => {
			server.off('listening', onListening);
			reject(new ListenError(explain(err, port, host), err.code));
		};
		const onListening = () => {
			server.off('error', onError);
			const address = server.address();
			resolve(typeof address === 'object' && address ? address.port : port);
		};
		server.once('error', onError);
		server.once('listening', onListening);
		server.listen(port, host);
	});
}

function explain(err: NodeJS.ErrnoException, port: number, host: string): string {
	switch (err.code) {
		case 'EADDRINUSE':
			return `PORT ${port} is already in use on ${host}: stop the other process (see \`lsof -i :${port}\` or \`ss -ltnp\`) or set PORT to a free port`;
		case 'EACCES':
			return `PORT ${port} needs more privileges on ${host}: use a port above 1023 (and a proxy on 80/443), or grant the capability to bind it`;
		case 'EADDRNOTAVAIL':
			return `HOST ${host} is not an address of this machine: set HOST to one of its addresses, or 0.0.0.0 for all`;
		case 'ENOTFOUND':
		case 'EAI_AGAIN':
			return `HOST ${host} does not resolve: set HOST to an address of this machine, or 0.0.0.0 for all`;
		default:
			return `cannot listen on ${host}:${port} (PORT, HOST): ${err.message}`;
	}
}
