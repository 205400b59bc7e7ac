/**
 * `createBrowserOutbox`: the engine on the browser adapters — localforage
 * storage (IndexedDB first, localStorage fallback), the phoenix transport,
 * `online`/`offline` + visibility, and Web Locks / BroadcastChannel tab
 * coordination, one leader per signed-in user. Any port can still be
 * replaced through `deps`. Safe to import under SSR (the adapters touch
 * browser globals lazily), but create the engine in the browser only.
 *
 * @example
 * const outbox = createBrowserOutbox({ token: () => session.token, user: session.user });
 * setOutboxContext(outbox);
 */
import {
	createBrowserConnectivity,
	createLocalforageStorage,
	createPhoenixTransport,
	createTabCoordinator,
	type LocalforageStorageOptions,
	type PhoenixTransportOptions
} from './adapters/index.js';
import { SOCKET_ENDPOINT } from '../protocol/events.js';
import type { OutboxDeps, TabCoordinator, TabMessage, Unsubscribe } from './ports.js';
import { createOutbox, type Outbox, type OutboxOptions, type OutboxUser } from './runtime/index.js';

export interface BrowserOutboxOptions extends Omit<OutboxOptions, 'deps'> {
	/** The current session token (read on every connect). */
	token: () => string | null;
	/** Socket endpoint (default `/socket` on this origin). */
	endpoint?: string;
	/** Options of the localforage storage (`driver: 'localstorage'` to skip IndexedDB). */
	storage?: LocalforageStorageOptions;
	/** Passed to the phoenix `Socket`. */
	socketOptions?: PhoenixTransportOptions['socketOptions'];
	/** Replace any port. */
	deps?: Partial<OutboxDeps>;
}

/** The engine with browser defaults for every port. */
export function createBrowserOutbox(options: BrowserOutboxOptions): Outbox {
	const { token, endpoint = SOCKET_ENDPOINT, storage, socketOptions, deps = {}, user, ...rest } = options;
	if (typeof token !== 'function') throw new TypeError('createBrowserOutbox({ token: () => string | null }): token is required');
	const userTabs = deps.tabs ? null : new UserScopedTabs((id) => createTabCoordinator({ name: `outbox:${id}` }));
	const outbox = createOutbox({
		...rest,
		deps: {
			storage: deps.storage ?? createLocalforageStorage(storage),
			transport: deps.transport ?? createPhoenixTransport({ endpoint, token, socketOptions }),
			connectivity: deps.connectivity ?? createBrowserConnectivity(),
			tabs: deps.tabs ?? (userTabs as UserScopedTabs),
			...(deps.clock ? { clock: deps.clock } : {}),
			...(deps.ids ? { ids: deps.ids } : {})
		}
	});
	if (userTabs) {
		// Leadership is per user: step down, switch the queue, then compete for the new user's lock.
		const setUser = outbox.setUser.bind(outbox);
		outbox.setUser = async (next: OutboxUser | string | null) => {
			const id = next === null ? null : typeof next === 'string' ? next : next.id;
			if (id !== outbox.user?.id) userTabs.switchTo(null);
			await setUser(next);
			userTabs.switchTo(id);
		};
	}
	if (user !== undefined && user !== null) void outbox.setUser(user);
	return outbox;
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
