/**
 * The two official client versions under test (PROTOCOL.md §4.12: reconnect
 * behaviour differs), loaded unmodified, with the test plan's short timers.
 */
import { Presence as Presence1816, Socket as Socket1816 } from 'phoenix';
import { Presence as Presence1812, Socket as Socket1812 } from 'phoenix-1812';
import { WebSocket } from 'ws';

type SocketClass = typeof Socket1816;
type PresenceClass = typeof Presence1816;

export interface ClientVersion {
	version: '1.8.16' | '1.8.12';
	Socket: SocketClass;
	Presence: PresenceClass;
	/** Whether a server close with 1000 is followed by a reconnect (§4.12). */
	reconnectsAfter1000: boolean;
}

export const CLIENTS: ClientVersion[] = [
	{ version: '1.8.16', Socket: Socket1816, Presence: Presence1816, reconnectsAfter1000: true },
	{
		version: '1.8.12',
		Socket: Socket1812 as unknown as SocketClass,
		Presence: Presence1812 as unknown as PresenceClass,
		reconnectsAfter1000: false
	}
];

/** Short timers from PROTOCOL.md §7, `ws` as the transport (Node 20 has no global WebSocket). */
export const FAST_TIMERS = {
	heartbeatIntervalMs: 200,
	reconnectAfterMs: () => 20,
	rejoinAfterMs: () => 50,
	timeout: 300
};

/** A connected-on-demand official client for `url` (e.g. `ws://127.0.0.1:1234/socket`). */
export function makeSocket(client: ClientVersion, url: string, options: Record<string, unknown> = {}): InstanceType<SocketClass> {
	return new client.Socket(url, { transport: WebSocket, ...FAST_TIMERS, ...options } as never);
}

type Channel = ReturnType<InstanceType<SocketClass>['channel']>;

/** What a push or join ended with: the status the client routed it to, and the payload. */
export interface Outcome {
	status: string;
	response: unknown;
}

/** Join and resolve with the first of ok / error / timeout. */
export function joinOutcome(channel: Channel): Promise<Outcome> {
	return settle(channel.join(), ['ok', 'error', 'timeout']);
}

/** Push and resolve with the first of the given statuses (ok / error / timeout by default). */
export function pushOutcome(
	channel: Channel,
	event: string,
	payload: object,
	statuses: string[] = ['ok', 'error', 'timeout'],
	timeoutMs?: number
): Promise<Outcome> {
	return settle(channel.push(event, payload, timeoutMs), statuses);
}

function settle(push: ReturnType<Channel['push']>, statuses: string[]): Promise<Outcome> {
	return new Promise((resolve) => {
		for (const status of statuses) push.receive(status as never, (response: unknown) => resolve({ status, response }));
	});
}
