/**
 * Runs fault schedules: the real server as a child process on a real port
 * (SQLite in a data dir, or PostgreSQL in a fresh schema), the fault proxy in
 * front of it, and per user 2–3 "tabs" of the generic kit in Node (one shared
 * `MemoryStorage` per user, lease election through a shared `localStorage`,
 * BroadcastChannel between tabs, the official phoenix client over `ws`).
 * One server serves every schedule of a run (each schedule has its own rooms
 * and users); a SIGKILL restarts it on the same data. With `nodes` 2–3
 * (PostgreSQL only) the server is that many processes on one schema, a
 * cluster: the proxy sends each new connection to the next live node in turn
 * (so tabs spread over the nodes, and a client whose node died reconnects to
 * another), `sigkill` kills every node at once, `node-kill` one of them.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Socket, type Channel, type Push } from 'phoenix';
import { WebSocket } from 'ws';
import { createPhoenixTransport, createTabCoordinator } from '../../src/lib/outbox/adapters/index.js';
import { CHAT_BATCHES_IN_FLIGHT } from '../../src/lib/chat/browser.js';
import { createOutbox, type Connectivity, type ConnectivityState, type Outbox } from '../../src/lib/outbox/index.js';
import { MemoryStorage } from '../../src/lib/outbox/testing/memory-storage.js';
import { seededRandom } from '../../src/lib/outbox/testing/seeded-random.js';
import { chatActions, createChat, type Chat, type ChatActions, type Room as ChatRoom } from '../../src/lib/chat/index.js';
import { dropSchemas, freshSchema, TEST_DATABASE_URL } from '../protocol/helpers/pg.js';
import { compileServer, removeCompiled, startServerProcess, type ServerProcess } from '../protocol/helpers/server-process.js';
import { checkSchedule, type MadeAction, type ServerMessage, type TabView } from './checker.js';
import { debugFrames, startFaultProxy, type FaultCounts, type FaultProxy } from './fault-proxy.js';
import { installFreezer, realTimers, TabZone } from './freezer.js';
import { installLocalStorage } from './local-storage.js';
import { LEASE_MS, ROOM_COUNT, type FaultKind, type Schedule } from './schedule.js';

export type StoreKind = 'sqlite' | 'pg';

export interface ScheduleResult {
	seed: number;
	violations: string[];
	/** Faults applied, by kind (frame faults counted per frame). */
	injected: Record<string, number>;
	actions: number;
	/** From the last action to every queue empty and every view equal to the server's, ms. */
	drainMs: number;
	totalMs: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check: () => boolean, ms: number): Promise<boolean> {
	const deadline = Date.now() + ms;
	while (Date.now() < deadline) {
		if (check()) return true;
		await sleep(10);
	}
	return check();
}

/** A tab's online/offline events (delivered through its zone: a frozen tab hears them on thaw). */
class Switch implements Connectivity {
	state: ConnectivityState = { online: true, visible: true };
	#listeners = new Map<(state: ConnectivityState) => void, (state: ConnectivityState) => void>();
	readonly #zone: TabZone;
	constructor(zone: TabZone) {
		this.#zone = zone;
	}
	current() {
		return this.state;
	}
	subscribe(listener: (state: ConnectivityState) => void) {
		this.#listeners.set(listener, this.#zone.gate(listener));
		return () => void this.#listeners.delete(listener);
	}
	set(online: boolean) {
		this.state = { online, visible: true };
		for (const listener of [...this.#listeners.values()]) listener(this.state);
	}
}

interface User {
	name: string;
	id: string;
	token: string;
	storage: MemoryStorage;
	/** Tokens revoked by a fault. */
	revoked: Set<string>;
	/** A sign-in under way. */
	signingIn: Promise<void> | null;
}

interface Tab {
	name: string;
	user: User;
	outbox: Outbox<ChatActions>;
	chat: Chat;
	rooms: ChatRoom[];
	network: Switch;
	/** The tab's code and events (frozen by a `freeze` fault). */
	zone: TabZone;
}

export class FaultBench {
	readonly store: StoreKind;
	readonly nodes: number;
	proxy!: FaultProxy;
	/** The server's processes by node; null while a killed node restarts. */
	servers: Array<ServerProcess | null> = [];
	#nextNode = 0;
	/** Nodes restarting after a `node-kill`. */
	#nodeRestarts = new Set<Promise<void>>();
	#compiled = '';
	#dataDir = '';
	#schema: string | null = null;
	#env: Record<string, string> = {};
	#restarting: Promise<void> | null = null;
	#random = seededRandom(1);
	restarts = 0;

	constructor(store: StoreKind, nodes = 1) {
		if (nodes < 1 || nodes > 3 || (nodes > 1 && store !== 'pg')) throw new Error(`FaultBench: ${nodes} nodes on ${store} (a cluster of 2–3 nodes runs on PostgreSQL only)`);
		this.store = store;
		this.nodes = nodes;
	}

	/** A live node (the first). */
	get server(): ServerProcess {
		const live = this.servers.find((s) => s !== null);
		if (!live) throw new Error('no server node is up');
		return live;
	}

	/** The next live node in turn, for a new connection through the proxy. */
	#pick(): number {
		const live = this.servers.filter((s): s is ServerProcess => s !== null);
		return (live[this.#nextNode++ % Math.max(1, live.length)] ?? this.server).port;
	}

	async start(): Promise<void> {
		installLocalStorage();
		installFreezer();
		this.#compiled = compileServer();
		this.#dataDir = mkdtempSync(join(tmpdir(), 'outbox-faults-'));
		this.#env = { SECRET_KEY: randomBytes(24).toString('hex'), SOCKET_RATE_PER_S: '2000', SOCKET_RATE_BURST: '10000' };
		if (this.store === 'pg') {
			this.#schema = freshSchema('faults');
			Object.assign(this.#env, { DATABASE_URL: TEST_DATABASE_URL, DATABASE_SCHEMA: this.#schema });
		}
		this.servers = await Promise.all(Array.from({ length: this.nodes }, () => this.#startServer()));
		this.proxy = await startFaultProxy({ target: () => this.#pick(), random: () => this.#random() });
	}

	async close(): Promise<void> {
		await this.#restarting;
		await Promise.all(this.#nodeRestarts);
		await this.proxy?.close();
		await Promise.all(this.servers.map((s) => s?.stop()));
		if (this.#schema) await dropSchemas([this.#schema]);
		rmSync(this.#dataDir, { recursive: true, force: true });
		removeCompiled(this.#compiled);
	}

	/** Start the server on the run's data; a start slower than 15 s on a loaded machine is tried again (3 times). */
	async #startServer(): Promise<ServerProcess> {
		for (let attempt = 1; ; attempt++) {
			try {
				return await startServerProcess(this.#compiled, this.#env, { dataDir: this.#dataDir });
			} catch (error) {
				if (attempt >= 3) throw error;
			}
		}
	}

	/** SIGKILL the server now and start it again on the same data (in the background). */
	#kill(): boolean {
		if (this.#restarting) return false;
		const old = this.servers;
		this.restarts++;
		this.#restarting = (async () => {
			await Promise.all(this.#nodeRestarts);
			for (const s of old) s?.child.kill('SIGKILL');
			await Promise.all(old.map((s) => s?.exited));
			this.servers = await Promise.all(old.map(() => this.#startServer()));
		})().finally(() => (this.#restarting = null));
		return true;
	}

	/** SIGKILL node `n` now and start it again (in the background); the others serve meanwhile. */
	#killNode(n: number): boolean {
		const old = this.servers[n];
		if (!old || this.#restarting || this.servers.filter((s) => s !== null).length < 2) return false;
		this.servers[n] = null;
		const restart = (async () => {
			old.child.kill('SIGKILL');
			await old.exited;
			this.servers[n] = await this.#startServer();
		})().finally(() => this.#nodeRestarts.delete(restart));
		this.#nodeRestarts.add(restart);
		return true;
	}

	async #api(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: any }> {
		for (let attempt = 0; ; attempt++) {
			await this.#restarting;
			try {
				const headers: Record<string, string> = {};
				if (body !== undefined) headers['content-type'] = 'application/json';
				if (token) headers.authorization = `Bearer ${token}`;
				const res = await fetch(this.server.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
				const text = await res.text();
				return { status: res.status, body: text ? JSON.parse(text) : null };
			} catch (error) {
				if (attempt > 50) throw error;
				await sleep(50);
			}
		}
	}

	async #signIn(name: string): Promise<{ token: string; user: { id: string; name: string } }> {
		const res = await this.#api('POST', '/api/session', { name, password: `pw-${name}-secret` });
		if (res.status !== 200) throw new Error(`sign-in of ${name} failed: ${res.status} ${JSON.stringify(res.body)}`);
		return res.body;
	}

	/** Run one schedule; never throws for a violation (they are returned). */
	async run(schedule: Schedule): Promise<ScheduleResult> {
		const started = Date.now();
		this.#random = seededRandom(schedule.seed ^ 0x5bd1e995);
		const random = seededRandom(schedule.seed ^ 0x27d4eb2f);
		const tag = `${this.store === 'pg' ? 'p' : 's'}${schedule.seed.toString(36)}${Date.now().toString(36).slice(-4)}`;
		const slugs = Array.from({ length: ROOM_COUNT }, (_, i) => `f${tag}-${i}`);
		const injected: Record<string, number> = {};
		const count = (kind: FaultKind | string, n = 1) => (injected[kind] = (injected[kind] ?? 0) + n);
		const proxyBefore: FaultCounts = { ...this.proxy.counts };

		const users: User[] = [];
		for (let i = 0; i < schedule.tabs.length; i++) {
			const name = `f${tag}u${i}`;
			const { token, user } = await this.#signIn(name);
			users.push({ name, id: user.id, token, storage: new MemoryStorage(), revoked: new Set(), signingIn: null });
		}
		/** Actions the user retried by hand after they failed as unauthorized. */
		const userRetried = new Set<string>();
		const signInAgain = (user: User): Promise<void> =>
			this.#signIn(user.name)
				.then(({ token }) => void (user.token = token))
				.finally(() => (user.signingIn = null));
		let instances = 0;
		const openTab = (user: User, slot: number): Tab => {
			const name = `${user.name}/t${slot}.${instances++}`;
			const zone = new TabZone(name);
			return zone.run(() => buildTab(user, name, zone));
		};
		const buildTab = (user: User, name: string, zone: TabZone): Tab => {
			const network = new Switch(zone);
			const transport = createPhoenixTransport({
				endpoint: `ws://127.0.0.1:${this.proxy.port}/socket`,
				token: () => user.token,
				socketOptions: {
					transport: zone.WebSocket as never,
					heartbeatIntervalMs: 1000,
					reconnectAfterMs: () => 30 + Math.floor(Math.random() * 40),
					rejoinAfterMs: () => 30,
					timeout: 2000
				}
			});
			const outbox: Outbox<ChatActions> = createOutbox({
				actions: chatActions,
				deps: {
					storage: user.storage,
					transport,
					connectivity: network,
					tabs: createTabCoordinator({ name: `outbox:${user.id}`, election: 'lease', leaseMs: LEASE_MS, messaging: 'broadcast-channel' })
				},
				user: { id: user.id, name: user.name },
				pushTimeoutMs: 2000,
				// Batches in flight per room as the app has them, so the schedules also hit pipelined batches.
				batchesInFlight: CHAT_BATCHES_IN_FLIGHT,
				retry: { baseMs: 30, capMs: 300, networkDelayMs: 30, maxRetries: 1000 },
				eventTarget: null
			});
			const chat = createChat(outbox, { rejectedStore: null, historyLimit: 100 });
			// What the app does when the server refuses the session: sign in again, hand the kit the
			// user again (a fresh session), and the user presses Retry on what failed as unauthorized.
			outbox.session.subscribe((session) => {
				if (session.phase !== 'refused') return;
				void (async () => {
					if (user.revoked.has(user.token)) user.signingIn ??= signInAgain(user);
					await user.signingIn;
					if (outbox.session.get().phase !== 'refused') return;
					await outbox.setUser({ id: user.id, name: user.name });
					for (const item of outbox.list()) {
						if (item.status === 'failed' && item.lastError?.verdict === 'unauthorized') {
							count('actions retried by the user after signing in again');
							userRetried.add(item.id);
							await outbox.retry(item.id);
						}
					}
				})();
			});
			const tab: Tab = { name, user, outbox, chat, rooms: slugs.map((slug) => chat.room(`room:${slug}`)), network, zone };
			zone.onActionPush = () => actionPushed(tab);
			return tab;
		};
		const closeTab = async (tab: Tab) => {
			freezeArmed.delete(tab);
			tab.zone.thaw(); // a frozen tab closed: what it was due runs first
			await tab.zone.idle();
			await tab.zone.run(async () => {
				tab.chat.close();
				await tab.outbox.close();
			});
		};
		/** Freeze `tab` for `ms` now (thawed by a real timer: the tab's own timers are held). */
		const freeze = (tab: Tab, ms: number) => {
			freezeArmed.delete(tab);
			if (tab.zone.frozen) return;
			count('leader tabs frozen');
			tab.zone.freeze();
			freezes.push(
				new Promise((resolve) => realTimers.setTimeout(resolve, ms)).then(() => {
					if (otherLeader(tab)) count('frozen leaders taken over (resumed past their lease)');
					tab.zone.thaw();
					return tab.zone.idle();
				})
			);
		};
		/** Tabs to freeze as their next action push leaves, for how long. */
		const freezeArmed = new Map<Tab, number>();
		/** Another tab of `tab`'s user that leads and is not frozen (so knows it leads). */
		const otherLeader = (tab: Tab) => (tabs[users.indexOf(tab.user)] as Tab[]).some((t) => t !== tab && !t.zone.frozen && t.outbox.session.get().phase === 'leader');
		/** An action push leaves `tab`'s socket. */
		const actionPushed = (tab: Tab) => {
			if (otherLeader(tab)) count('action pushes while another tab leads');
			const ms = freezeArmed.get(tab);
			if (ms !== undefined) freeze(tab, ms);
		};
		/** Freezes armed or under way (they run on into the drain, as scheduled: 2 s at most). */
		const freezes: Promise<void>[] = [];
		const tabs: Tab[][] = users.map((user, u) => Array.from({ length: schedule.tabs[u] as number }, (_, slot) => openTab(user, slot)));
		await Promise.all(tabs.flat().map((tab) => tab.outbox.ready));

		const made: MadeAction[] = [];
		const timers: Array<ReturnType<typeof setTimeout>> = [];
		/** What runs as the next action push leaves (a `sigkill` and a `node-kill` may both wait for it). */
		const batchHooks: Array<() => void> = [];
		const atNextBatch = (fn: () => void) => {
			batchHooks.push(fn);
			this.proxy.onNextBatch(() => {
				for (const hook of batchHooks.splice(0)) hook();
			});
		};
		const background: Promise<unknown>[] = [];
		try {
			for (const [i, step] of schedule.steps.entries()) {
				for (const fault of schedule.faults.filter((f) => f.at === i)) {
					const user = users[fault.user] as User;
					const userTabs = tabs[fault.user] as Tab[];
					switch (fault.kind) {
						case 'frames':
							count('frame fault windows');
							this.proxy.setFaults(fault.frames ?? null);
							timers.push(setTimeout(() => this.proxy.setFaults(null), fault.ms ?? 500));
							break;
						case 'lost-ack':
							this.proxy.loseNextAck();
							break;
						case 'sigkill':
							atNextBatch(() => {
								if (this.#kill()) count('server SIGKILLs mid-flush');
							});
							break;
						case 'node-kill': {
							// As the next action push leaves (the next one after that while the whole cluster restarts).
							const arm = () =>
								atNextBatch(() => {
									if (this.#killNode(fault.node ?? 0)) count('cluster nodes SIGKILLed mid-flush');
									else if (this.#restarting) arm();
								});
							arm();
							break;
						}
						case 'cut':
							count('connections cut', this.proxy.cutAll());
							break;
						case 'flap': {
							count('offline flaps');
							const tab = userTabs[fault.tab] as Tab;
							tab.network.set(false);
							timers.push(setTimeout(() => tab.network.set(true), fault.ms ?? 100));
							break;
						}
						case 'tab-rebuild': {
							count('tabs rebuilt mid-flush');
							const old = userTabs[fault.tab] as Tab;
							await closeTab(old);
							const fresh = openTab(user, fault.tab);
							userTabs[fault.tab] = fresh;
							await fresh.outbox.ready;
							break;
						}
						case 'freeze': {
							// The user's leader freezes as its next action push leaves (the reply lands in its
							// buffer), or in 200 ms if it sends nothing; it stays frozen past its lease.
							const leader = userTabs.find((t) => t.outbox.session.get().phase === 'leader') ?? (userTabs[fault.tab] as Tab);
							const ms = fault.ms ?? 2 * LEASE_MS;
							freezeArmed.set(leader, ms);
							freezes.push(new Promise((resolve) => realTimers.setTimeout(resolve, 200)).then(() => void (freezeArmed.has(leader) && freeze(leader, ms))));
							break;
						}
						case 'revoke': {
							count('tokens revoked (and signed in again)');
							const revoked = user.token;
							user.revoked.add(revoked);
							background.push(
								(async () => {
									await this.#api('DELETE', '/api/session', undefined, revoked);
									await sleep(Math.floor(random() * 200));
									if (user.token === revoked) await (user.signingIn ??= signInAgain(user));
								})()
							);
							break;
						}
					}
				}
				// A frozen tab takes no input: the user types in their next tab that is not frozen.
				const userTabs = tabs[step.user] as Tab[];
				const tab = Array.from({ length: userTabs.length }, (_, k) => userTabs[(step.tab + k) % userTabs.length] as Tab).find((t) => !t.zone.frozen) ?? (userTabs[step.tab] as Tab);
				const room = slugs[step.room] as string;
				const item = await tab.zone.run(() => tab.outbox.add('send_message', `room:${room}`, { body: `m${i}` }));
				made.push({ clientId: item.id, room, author: tab.user.id, tab: tab.name });
				if (step.pauseMs > 0) await sleep(step.pauseMs);
			}
			const lastActionAt = Date.now();
			await Promise.all(background);
			// A frame fault window may run on into the drain; it ends as scheduled (at most 1.5 s).
			await new Promise<void>((resolve) => {
				const check = () => (this.proxy.faultsOn ? setTimeout(check, 20) : resolve());
				check();
			});
			this.proxy.onNextBatch(null);
			batchHooks.length = 0;
			for (const timer of timers) clearTimeout(timer);
			for (let n = 0; n < freezes.length; n++) await freezes[n]; // a freeze's end may arm no new one, but the list may grow
			for (const tab of tabs.flat()) tab.network.set(true);
			await this.#restarting;
			await Promise.all(this.#nodeRestarts);

			const violations: string[] = [];
			const allTabs = tabs.flat();
			// The user presses Retry on what failed as unauthorized once signed in again (a push in
			// flight on the revoked session may fail after the session was renewed).
			const retried = new Set<string>();
			const retryUnauthorized = () => {
				for (const tab of allTabs) {
					if (tab.outbox.session.get().phase !== 'leader' || tab.user.revoked.has(tab.user.token)) continue;
					for (const item of tab.outbox.list()) {
						const key = `${item.id}@${item.lastError?.at}`;
						if (item.status !== 'failed' || item.lastError?.verdict !== 'unauthorized' || retried.has(key)) continue;
						retried.add(key);
						count('actions retried by the user after signing in again');
						userRetried.add(item.id);
						void tab.zone.run(() => tab.outbox.retry(item.id));
					}
				}
			};
			const drained = await until(() => {
				retryUnauthorized();
				return users.every((u) => u.storage.namespaces().length === 0) && allTabs.every((t) => t.outbox.count === 0);
			}, 60_000);
			if (!drained) {
				for (const tab of allTabs) {
					const stuck = tab.outbox.list().map((item) => `${item.id}:${item.status}${item.lastError ? `(${item.lastError.reason})` : ''}`);
					if (stuck.length) violations.push(`not drained after 60 s: tab ${tab.name} (${tab.outbox.session.get().phase}, ${tab.outbox.connection.get().status}${tab.zone.frozen ? ', frozen' : ''}) holds ${stuck.join(' ')}; ${topicStates(tab, slugs)}`);
				}
				// What storage holds, and where every tab of those users stands (to tell a stale copy from a stuck send).
				for (const user of users) {
					for (const namespace of user.storage.namespaces()) {
						const stored = await user.storage.getAll(namespace);
						violations.push(`not drained after 60 s: ${user.name}'s storage holds ${stored.map((item) => `${item.id}:${item.status}`).join(' ') || 'an empty namespace'}`);
					}
				}
				for (const tab of allTabs) {
					if (tab.outbox.count > 0 || !users.every((u) => u.storage.namespaces().length === 0)) {
						violations.push(`  tab ${tab.name}: ${tab.outbox.session.get().phase}, ${tab.outbox.connection.get().status}, ${tab.outbox.count} held${tab.zone.frozen ? ', frozen' : ''}`);
					}
				}
			}
			const server = await this.#serverView(slugs, users[0] as User);
			const viewOf = (): TabView[] =>
				allTabs.flatMap((tab) =>
					tab.rooms.map((room, r) => ({
						tab: tab.name,
						room: slugs[r] as string,
						clientIds: room.messages.filter((m) => m.status === 'sent').map((m) => m.clientId)
					}))
				);
			for (const action of made) if (userRetried.has(action.clientId)) action.userRetried = true;
			const agree = () => checkSchedule(made, server, viewOf()).length === 0;
			await until(agree, 20_000);
			const drainMs = Date.now() - lastActionAt;
			violations.push(...checkSchedule(made, server, viewOf()));
			if (process.env.FAULT_DEBUG) {
				for (const tab of allTabs) {
					for (const slug of slugs) {
						const topic = `room:${slug}`;
						console.error(`DEBUG ${tab.name} ${topic}: channel ${tab.outbox.deps.transport.channelState(topic)} session ${tab.outbox.session.get().phase} conn ${tab.outbox.connection.get().status}`);
					}
				}
				console.error('DEBUG frames', JSON.stringify(debugFrames.slice(-400)));
			}
			const after = this.proxy.counts;
			for (const key of ['dropped', 'duplicated', 'delayed', 'reordered', 'lostAcks'] as const) {
				const n = after[key] - proxyBefore[key];
				if (n > 0) count(key === 'lostAcks' ? 'acks lost (cut after the commit)' : `frames ${key}`, n);
			}
			return { seed: schedule.seed, violations, injected, actions: made.length, drainMs, totalMs: Date.now() - started };
		} finally {
			this.proxy.setFaults(null);
			this.proxy.onNextBatch(null);
			this.proxy.loseNextAck(false);
			await Promise.allSettled(tabs.flat().map(closeTab));
		}
	}

	/** Every message of the schedule's rooms, read by a fresh official client straight from the server (sync from the start). */
	async #serverView(slugs: string[], user: User): Promise<Record<string, ServerMessage[]>> {
		const { token } = await this.#signIn(user.name);
		const socket = new Socket(`ws://127.0.0.1:${this.server.port}/socket`, { transport: WebSocket as never, authToken: token, timeout: 5000 } as never);
		socket.connect();
		try {
			const out: Record<string, ServerMessage[]> = {};
			for (const slug of slugs) {
				const channel = socket.channel(`room:${slug}`, {});
				await reply(channel.join(), `join room:${slug}`);
				out[slug] = await syncAll(channel);
			}
			return out;
		} finally {
			socket.disconnect();
		}
	}
}

/** Per room topic of a tab that did not drain: its channel's state, a join refusal kept by the transport, and whether its lane is in flight (an item `sending`). */
function topicStates(tab: Tab, slugs: readonly string[]): string {
	const { transport } = tab.outbox.deps;
	const items = tab.outbox.list();
	return slugs
		.map((slug) => {
			const topic = `room:${slug}`;
			const refusal = transport.joinError(topic);
			const inFlight = items.some((item) => item.topic === topic && item.status === 'sending');
			return `${topic}: channel ${transport.channelState(topic)}${refusal === null ? '' : ` refused ${JSON.stringify(refusal)}`}, lane ${inFlight ? 'in flight' : 'not in flight'}`;
		})
		.join('; ');
}

function reply(push: Push, what: string): Promise<any> {
	return new Promise((resolve, reject) => {
		push
			.receive('ok', resolve)
			.receive('error', (response) => reject(new Error(`${what}: ${JSON.stringify(response)}`)))
			.receive('timeout', () => reject(new Error(`${what}: timeout`)));
	});
}

async function syncAll(channel: Channel): Promise<ServerMessage[]> {
	const messages: ServerMessage[] = [];
	let cursor: string | null = null;
	for (;;) {
		const page = new Promise<any>((resolve) => {
			const ref = channel.on('sync:complete', (payload) => {
				channel.off('sync:complete', ref);
				resolve(payload);
			});
		});
		await reply(channel.push('sync', { since: cursor }, 5000), 'sync');
		const payload = await page;
		messages.push(...payload.messages);
		cursor = payload.cursor;
		if (payload.complete) return messages;
	}
}
