// `phoenix-channels` (npm): an independent Node port of the Phoenix 1.2 client that speaks
// the V1 serializer (`vsn=1.0.0`, object frames, no join_ref) over the `websocket` package.
// It ships no types; these cover what the tests use.
declare module 'phoenix-channels' {
	export interface Push {
		receive(status: string, callback: (response: any) => void): Push;
	}
	export class Channel {
		state: string;
		join(timeout?: number): Push;
		leave(timeout?: number): Push;
		push(event: string, payload: object, timeout?: number): Push;
		on(event: string, callback: (payload: any, ref?: string) => void): void;
		off(event: string): void;
	}
	export interface SocketOptions {
		/** The WebSocket class (W3C API); the package's default comes from `websocket`, overridden to `ws`. */
		transport?: unknown;
		params?: Record<string, string>;
		timeout?: number;
		heartbeatIntervalMs?: number;
		reconnectAfterMs?: (tries: number) => number;
		logger?: (kind: string, msg: string, data: unknown) => void;
	}
	export class Socket {
		constructor(endPoint: string, opts?: SocketOptions);
		connect(): void;
		disconnect(callback?: () => void, code?: number, reason?: string): void;
		isConnected(): boolean;
		channel(topic: string, params?: object): Channel;
		onOpen(callback: () => void): void;
		onClose(callback: (event: unknown) => void): void;
		onError(callback: (error: unknown) => void): void;
		onMessage(callback: (message: { topic: string; event: string; payload: any; ref: string | null; join_ref?: string | null }) => void): void;
	}
}
