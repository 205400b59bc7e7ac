/**
 * The `TabCoordinator` port in the browser: one leader tab sends the queue,
 * every tab hears the others.
 *
 * Election — Web Locks: each tab asks for the exclusive lock `<name>` and the
 * one holding it leads for as long as it lives; the browser releases the lock
 * when the tab closes or crashes, and the next waiting tab is granted it. A
 * hidden or frozen leader keeps the lock (its sends pause; nothing is lost,
 * and no two tabs ever send at once). Where Web Locks are missing, a lease in
 * localStorage (`<name>:lease` = `{id, expiresAt}`) renewed every `leaseMs/3`
 * and taken over once stale; a frozen leader whose lease was taken steps
 * down on its next heartbeat, or sooner, when asked `isLeader()` (the send
 * loop asks before every push: a resumed tab whose lease another tab holds
 * sends nothing more). With neither (Node, SSR) the one tab leads.
 *
 * Messages — a `BroadcastChannel` named `<name>`; where it is missing,
 * `storage` events on the localStorage key `<name>:msg`.
 */
import type { TabCoordinator, TabMessage, Unsubscribe } from '../ports.js';

export interface TabCoordinatorOptions {
	/** Lock, channel and key name; include the user id (`outbox:<userId>`) so users never share a leader. */
	name: string;
	/** Lease length for the localStorage fallback (default 5,000 ms; renewed every third of it). */
	leaseMs?: number;
	/** How to elect (default `auto`: Web Locks, else the lease). */
	election?: 'auto' | 'web-locks' | 'lease';
	/** How to talk (default `auto`: BroadcastChannel, else storage events). */
	messaging?: 'auto' | 'broadcast-channel' | 'storage';
}

/** A `TabCoordinator` that can also step down without closing. */
export interface BrowserTabCoordinator<M = TabMessage> extends TabCoordinator<M> {
	/** Give up leadership for good (signing out) and let another tab lead; messages still flow until `close()`. */
	resign(): void;
	/** The mechanisms in use. */
	readonly mechanisms: { election: 'web-locks' | 'lease' | 'single'; messaging: 'broadcast-channel' | 'storage' | 'none' };
}

interface Lease {
	id: string;
	expiresAt: number;
}

/**
 * Cross-tab coordination.
 *
 * @example
 * const tabs = createTabCoordinator({ name: `outbox:${user.id}` });
 * tabs.subscribe((leading) => (leading ? engine.startSending() : engine.stopSending()));
 * tabs.onBroadcast((message) => message.kind === 'queue-changed' && engine.apply(message));
 * signOutButton.onclick = () => tabs.close();
 */
export function createTabCoordinator<M = TabMessage>(options: TabCoordinatorOptions): BrowserTabCoordinator<M> {
	if (!options || typeof options.name !== 'string' || options.name === '') {
		throw new TypeError('createTabCoordinator({ name: "outbox:<userId>" }) needs a non-empty name');
	}
	const leaseMs = options.leaseMs ?? 5000;
	if (!Number.isFinite(leaseMs) || leaseMs < 30) throw new TypeError('createTabCoordinator: leaseMs must be a number ≥ 30');
	const { name } = options;
	const g = globalThis as typeof globalThis & { localStorage?: Storage; navigator?: Navigator };
	const storage = localStorageOrNull();
	const locks = typeof g.navigator?.locks?.request === 'function' ? g.navigator.locks : null;
	const election = pick(options.election ?? 'auto', { 'web-locks': locks !== null, lease: storage !== null }, 'single');
	const messaging = pick(options.messaging ?? 'auto', { 'broadcast-channel': typeof BroadcastChannel === 'function', storage: storage !== null }, 'none');
	const id = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;

	let leader = false;
	let resigned = false;
	let closed = false;
	const leaderListeners = new Set<(isLeader: boolean) => void>();
	const messageListeners = new Set<(message: M) => void>();
	const cleanups: Array<() => void> = [];

	const setLeader = (next: boolean) => {
		if (leader === next) return;
		leader = next;
		for (const listener of [...leaderListeners]) listener(next);
	};
	const deliver = (message: M) => {
		for (const listener of [...messageListeners]) listener(message);
	};
	const listen = (target: EventTarget | undefined, type: string, fn: (event: Event) => void) => {
		if (!target?.addEventListener) return;
		target.addEventListener(type, fn);
		cleanups.push(() => target.removeEventListener(type, fn));
	};

	// ---- election
	let stepDown = () => setLeader(false);
	/** Whether this tab leads, checked against the election where it can change under a frozen tab. */
	let checkLeader = () => leader;
	if (election === 'single') {
		setLeader(true);
	} else if (election === 'web-locks' && locks) {
		const abort = new AbortController();
		let release: (() => void) | null = null;
		locks
			.request(name, { signal: abort.signal }, () => {
				if (resigned) return undefined;
				setLeader(true);
				return new Promise<void>((resolve) => (release = resolve));
			})
			.catch(() => {}); // AbortError after resign() while still waiting
		stepDown = () => {
			abort.abort();
			release?.();
			setLeader(false);
		};
	} else if (election === 'lease' && storage) {
		const key = `${name}:lease`;
		const read = (): Lease | null => parse<Lease>(storage.getItem(key));
		const write = () => storage.setItem(key, JSON.stringify({ id, expiresAt: Date.now() + leaseMs } satisfies Lease));
		let confirming: ReturnType<typeof setTimeout> | undefined;
		const tick = () => {
			if (resigned || closed) return;
			const lease = read();
			const mine = lease?.id === id;
			const stale = !lease || lease.expiresAt <= Date.now();
			if (leader && !mine && !stale) return setLeader(false); // taken over while we were frozen
			if (leader || mine) return write();
			if (!stale || confirming !== undefined) return;
			write();
			// Two tabs may both have seen a stale lease: the last writer wins, after a short settle.
			confirming = setTimeout(() => {
				confirming = undefined;
				if (!resigned && read()?.id === id) setLeader(true);
			}, Math.min(50, leaseMs / 3));
		};
		checkLeader = () => {
			const lease = leader && !closed ? read() : null;
			if (lease && lease.id !== id && lease.expiresAt > Date.now()) setLeader(false); // taken over while we were frozen
			return leader;
		};
		const heartbeat = setInterval(tick, leaseMs / 3);
		cleanups.push(() => clearInterval(heartbeat), () => clearTimeout(confirming));
		listen(g as unknown as EventTarget, 'storage', (event) => {
			const e = event as StorageEvent;
			if (e.key === key && e.newValue === null) tick(); // the leader left: take over now
		});
		listen(g as unknown as EventTarget, 'pagehide', () => stepDown());
		listen(g as unknown as EventTarget, 'pageshow', () => tick());
		listen(g.document as unknown as EventTarget, 'resume', () => tick());
		stepDown = () => {
			if (read()?.id === id) storage.removeItem(key);
			setLeader(false);
		};
		tick();
	}

	// ---- messages
	let send: (message: M) => void = () => {};
	if (messaging === 'broadcast-channel') {
		const channel = new BroadcastChannel(name);
		channel.onmessage = (event: MessageEvent) => deliver(event.data as M);
		send = (message) => channel.postMessage(message);
		cleanups.push(() => channel.close());
	} else if (messaging === 'storage' && storage) {
		const key = `${name}:msg`;
		let seq = 0;
		listen(g as unknown as EventTarget, 'storage', (event) => {
			const e = event as StorageEvent;
			if (e.key !== key || e.newValue === null) return;
			const envelope = parse<{ from: string; message: M }>(e.newValue);
			if (envelope && envelope.from !== id) deliver(envelope.message);
		});
		send = (message) => {
			// The key is written and removed at once: other tabs get the value in their event.
			storage.setItem(key, JSON.stringify({ from: id, seq: seq++, message }));
			storage.removeItem(key);
		};
	}

	const resign = () => {
		if (resigned) return;
		resigned = true;
		stepDown();
	};

	return {
		mechanisms: { election, messaging },
		isLeader: () => checkLeader(),
		subscribe(listener): Unsubscribe {
			leaderListeners.add(listener);
			return () => void leaderListeners.delete(listener);
		},
		broadcast(message) {
			if (!closed) send(message);
		},
		onBroadcast(listener): Unsubscribe {
			messageListeners.add(listener);
			return () => void messageListeners.delete(listener);
		},
		resign,
		close() {
			if (closed) return;
			resign();
			closed = true;
			for (const cleanup of cleanups.splice(0)) cleanup();
			leaderListeners.clear();
			messageListeners.clear();
		}
	};
}

/** The first wanted mechanism that is available, else `fallback`. */
function pick<K extends string, F extends string>(wanted: 'auto' | K, available: Record<K, boolean>, fallback: F): K | F {
	if (wanted !== 'auto') return available[wanted] ? wanted : fallback;
	for (const key of Object.keys(available) as K[]) if (available[key]) return key;
	return fallback;
}

function localStorageOrNull(): Storage | null {
	try {
		const storage = (globalThis as { localStorage?: Storage }).localStorage;
		return storage && typeof storage.getItem === 'function' ? storage : null;
	} catch {
		return null; // access throws where storage is blocked
	}
}

function parse<T>(json: string | null): T | null {
	if (json === null) return null;
	try {
		return JSON.parse(json) as T;
	} catch {
		return null;
	}
}
