/**
 * `createBrowserOutbox`: the engine on the browser adapters — localforage
 * storage (IndexedDB first, localStorage fallback), the phoenix transport,
 * `online`/`offline` + visibility, and Web Locks / BroadcastChannel tab
 * coordination, one leader per signed-in user. Any port can still be
 * replaced through `deps`.
 *
 * SSR-safe: importing it never touches a browser global, and created on a
 * server (no `window`) it returns an inert engine that connects to nothing,
 * stores nothing (`add` rejects with a `StorageError`) and ignores `user`,
 * so a component can create it unconditionally.
 *
 * @example
 * const outbox = createBrowserOutbox({ actions, token: () => session.token, user: session.user });
 * setOutboxContext(outbox);
 */
import {
	createBrowserConnectivity,
	createLocalforageStorage,
	createPhoenixTransport,
	createSocketTokenSource,
	createTabCoordinator,
	fetchSessionCheck,
	type SocketTokenSource,
	type LocalforageStorageOptions,
	type PhoenixTransportOptions,
	type SessionCheck,
	createHttpUploader
} from './adapters/index.js';
import { StorageError, type OutboxDeps, type QueueStorage, type TabCoordinator, type TabMessage, type Transport, type Unsubscribe } from './ports.js';
import { createOutbox, type ActionMap, type Outbox, type OutboxOptions, type OutboxUser } from './runtime/index.js';

export interface BrowserOutboxOptions<A extends ActionMap = ActionMap> extends Omit<OutboxOptions<A>, 'deps'> {
	/**
	 * The current token (read on every connect). Omit it with `socketToken`:
	 * the kit then fetches short-lived tokens itself.
	 */
	token?: () => string | null;
	/**
	 * Short-lived socket tokens instead of a token the page holds: the URL of
	 * a same-origin endpoint answering `POST` (with the HttpOnly session
	 * cookie) `{token, expires_at, user: {id}}` — Outbox's `/api/socket-token`
	 * — or your own `SocketTokenSource`. Fetched before connecting, refreshed
	 * before expiry and after a refused connect (which is also the session
	 * check: a refused cookie is `unauthorized`); forgotten when the user
	 * changes, and a token naming another user than the engine's is refused.
	 */
	socketToken?: string | SocketTokenSource;
	/** Socket endpoint (default `/socket` on this origin). */
	endpoint?: string;
	/** Options of the localforage storage (`driver: 'localstorage'` to skip IndexedDB). */
	storage?: LocalforageStorageOptions;
	/** Passed to the phoenix `Socket` (`params`, `heartbeatIntervalMs`, `longPollFallbackMs`...). */
	socketOptions?: PhoenixTransportOptions['socketOptions'];
	/** How the token travels: phoenix's `authToken` (default; Phoenix ≥ 1.8 `auth_token: true`) or a `token` connect param (Phoenix 1.7). */
	tokenAs?: PhoenixTransportOptions['tokenAs'];
	/** The connect param's name with `tokenAs: 'param'` (default `token`). */
	tokenParam?: string;
	/**
	 * Tells a refused token from no network when a connect fails: a function,
	 * or the URL of an endpoint answering 401 for a bad token (checked with the
	 * token as a bearer). Default none: a refused token then shows as
	 * `disconnected` (retrying), never `unauthorized`.
	 */
	sessionCheck?: SessionCheck | string | null;
	/** Where the files actions carry are uploaded (`POST`, raw body, `X-Upload-Id`; default `/api/uploads`), with the token as a Bearer (with `socketToken`, the session cookie instead: socket tokens open sockets only). */
	uploadUrl?: string;
	/** Replace any port. */
	deps?: Partial<OutboxDeps>;
}

/** The engine with browser defaults for every port. */
export function createBrowserOutbox<A extends ActionMap = ActionMap>(options: BrowserOutboxOptions<A>): Outbox<A> {
	const { token: givenToken, socketToken, endpoint = '/socket', storage, socketOptions, tokenAs, tokenParam, sessionCheck, uploadUrl, deps = {}, user, ...rest } = options;
	if (typeof givenToken !== 'function' && socketToken === undefined) {
		throw new TypeError("createBrowserOutbox: give token: () => string | null, or socketToken: '/api/socket-token'");
	}
	if (!isBrowser() && !(deps.storage && deps.transport)) return createOutbox<A>({ ...rest, autoConnect: false, deps: { storage: inertStorage, transport: inertTransport() } });
	let outboxRef: Outbox<A> | null = null;
	const tokens =
		socketToken === undefined
			? null
			: typeof socketToken === 'string'
				? createSocketTokenSource({ url: socketToken, expectedUser: () => outboxRef?.user?.id ?? null })
				: socketToken;
	const token = tokens ? () => tokens.current() : givenToken!;
	const check = typeof sessionCheck === 'string' ? fetchSessionCheck(sessionCheck, token) : sessionCheck;
	const userTabs = deps.tabs ? null : new UserScopedTabs((id) => createTabCoordinator({ name: `outbox:${id}` }));
	const outbox = createOutbox<A>({
		...rest,
		deps: {
			storage: deps.storage ?? createLocalforageStorage(storage),
			transport:
				deps.transport ??
				createPhoenixTransport({
					endpoint,
					token,
					socketOptions,
					...(tokenAs ? { tokenAs } : {}),
					...(tokenParam ? { tokenParam } : {}),
					...(check ? { sessionCheck: check } : {}),
					...(tokens ? { refreshToken: () => tokens.refresh() } : {}),
					...(rest.classify ? { classify: rest.classify } : {})
				}),
			connectivity: deps.connectivity ?? createBrowserConnectivity(),
			tabs: deps.tabs ?? (userTabs as UserScopedTabs),
			...(deps.clock ? { clock: deps.clock } : {}),
			...(deps.ids ? { ids: deps.ids } : {}),
			// Socket tokens open sockets only: with them, uploads go with the session cookie.
			uploader: deps.uploader ?? createHttpUploader({ ...(tokens ? {} : { token }), ...(uploadUrl ? { url: uploadUrl } : {}) })
		}
	});
	outboxRef = outbox;
	if (tokens || userTabs) {
		// Per user: a socket token (another user, or nobody, starts without it) and the tabs' leadership
		// (step down, switch the queue, then compete for the new user's lock).
		const setUser = outbox.setUser.bind(outbox);
		(outbox as { setUser: Outbox<A>['setUser'] }).setUser = async (next: OutboxUser | string | null) => {
			const id = next === null ? null : typeof next === 'string' ? next : next.id;
			const switching = id !== outbox.user?.id;
			if (tokens && (switching || id === null)) tokens.clear();
			if (userTabs && switching) userTabs.switchTo(null);
			await setUser(next);
			userTabs?.switchTo(id);
		};
	}
	if (user !== undefined && user !== null) void outbox.setUser(user);
	return outbox;
}

function isBrowser(): boolean {
	return typeof window !== 'undefined' && typeof document !== 'undefined';
}

/** Storage on a server-side render: holds nothing, refuses writes. */
const inertStorage: QueueStorage = {
	getAll: async () => [],
	write: async () => {
		throw new StorageError('unavailable', 'outbox: not in a browser (server-side render); create the engine in the browser to queue actions');
	},
	clear: async () => {},
	getMeta: async () => null
};

/** A transport on a server-side render: never connects, every push `closed`. */
function inertTransport(): Transport {
	return {
		connect() {},
		disconnect() {},
		reconnectNow() {},
		status: () => ({ status: 'disconnected' }),
		subscribeStatus: () => () => {},
		join: async () => ({ status: 'closed' }),
		leave: async () => {},
		channelState: () => 'closed',
		joinError: () => null,
		subscribeChannel: () => () => {},
		push: async () => ({ status: 'closed' }),
		onMessage: () => () => {}
	};
}

/**
 * A `TabCoordinator` whose election and channel belong to one user at a
 * time (`outbox:<userId>`), so two users in one browser never share a leader.
 */
export class UserScopedTabs implements TabCoordinator {
	#make: (userId: string) => TabCoordinator;
	#inner: TabCoordinator | null = null;
	#userId: string | null = null;
	#innerStops: Unsubscribe[] = [];
	#leaderListeners = new Set<(isLeader: boolean) => void>();
	#messageListeners = new Set<(message: TabMessage) => void>();

	constructor(make: (userId: string) => TabCoordinator) {
		this.#make = make;
	}

	/** Leave the current user's election and join `userId`'s (null: none). */
	switchTo(userId: string | null): void {
		if (userId === this.#userId) return;
		const wasLeader = this.isLeader();
		for (const stop of this.#innerStops.splice(0)) stop();
		this.#inner?.close();
		this.#inner = null;
		this.#userId = userId;
		if (wasLeader) this.#tell(false);
		if (userId === null) return;
		const inner = this.#make(userId);
		this.#inner = inner;
		this.#innerStops.push(
			inner.subscribe((isLeader) => this.#tell(isLeader)),
			inner.onBroadcast((message) => {
				for (const listener of [...this.#messageListeners]) listener(message);
			})
		);
		if (inner.isLeader()) this.#tell(true);
	}

	isLeader(): boolean {
		return this.#inner?.isLeader() ?? false;
	}

	subscribe(listener: (isLeader: boolean) => void): Unsubscribe {
		this.#leaderListeners.add(listener);
		return () => void this.#leaderListeners.delete(listener);
	}

	broadcast(message: TabMessage): void {
		this.#inner?.broadcast(message);
	}

	onBroadcast(listener: (message: TabMessage) => void): Unsubscribe {
		this.#messageListeners.add(listener);
		return () => void this.#messageListeners.delete(listener);
	}

	close(): void {
		this.switchTo(null);
	}

	#tell(isLeader: boolean): void {
		for (const listener of [...this.#leaderListeners]) listener(isLeader);
	}
}
