/**
 * The chat app's state, one instance per app (made by the root layout in the
 * browser, passed down by context): the session, the one Outbox engine, and
 * what the shell shows about it (connection, queue, "Synced N" toast).
 *
 *   no session ──signIn──> signed in (engine.setUser(user), connects)
 *       ^                      │ token refused: connection reason 'unauthorized'
 *       │                      │   -> banner "Sign in" -> signInAgain (queue kept)
 *       └──── signOut ─────────┘ (setUser(null), DELETE /api/session best effort)
 *
 * The engine lives as long as the app: signing in and out only switches its
 * user, so each user's queue stays in its own storage namespace. The chat
 * preset (`$lib/chat`) runs on it: rooms of messages.
 *
 * @example
 * const app = new AppState();            // root layout
 * setAppContext(app); setOutboxContext(app.outbox);
 */
import { getContext, hasContext, setContext } from 'svelte';
import { createBrowserChat, SOCKET_TOKEN_URL, type Chat, type ChatActions, type Room } from '../chat/index.js';
import type { Outbox } from '../outbox/index.js';
import { OutboxConnection, OutboxErrorState, OutboxQueue, OutboxStorage } from '../outbox/svelte/index.js';
import { FLUSH_REPORT, type FlushReportMessage } from '../outbox/sw/index.js';
import { clearSession, loadSession, revokeSession, saveSession, SESSION_KEY, signIn, type Session } from './session.js';
import { RoomDirectory } from './room-directory.svelte.js';

/** How often the room list's unread counts are refreshed while connected and visible (ms). */
const ROOMS_REFRESH_MS = 20_000;

export class AppState {
	readonly outbox: Outbox<ChatActions>;
	readonly chat: Chat;
	readonly connection: OutboxConnection;
	readonly queue: OutboxQueue;
	readonly error: OutboxErrorState;
	/** Whether the queue can be saved durably (the storage warning). */
	readonly storage: OutboxStorage;
	readonly rooms: RoomDirectory;
	#session = $state<Session | null>(null);
	#online = $state(true);
	#toast = $state<number | null>(null);
	#syncing = $state(false);
	#forcing = false;
	#runWaited = false;
	#stops: Array<() => void> = [];
	#roomHolds = new Map<string, number>();
	#resumeName = $state<string | null>(null);

	constructor() {
		this.#session = loadSession();
		// No token in the page: the kit gets short-lived socket tokens with the HttpOnly cookie.
		const { outbox, chat } = createBrowserChat({
			socketToken: SOCKET_TOKEN_URL,
			...(this.#session ? { user: this.#session.user } : {})
		});
		this.outbox = outbox;
		this.chat = chat;
		this.connection = new OutboxConnection(this.outbox);
		this.queue = new OutboxQueue(this.outbox);
		this.error = new OutboxErrorState(this.outbox);
		this.storage = new OutboxStorage(this.outbox);
		this.rooms = new RoomDirectory(() => this.#session);

		const { connectivity } = this.outbox.deps;
		this.#online = connectivity.current().online;
		this.#stops.push(
			connectivity.subscribe((state) => (this.#online = state.online)),
			// A run counts as a sync when it delivers something that waited for the network
			// (made before the current connection came up), or when the user asked ("Sync now").
			this.outbox.events.on('call-reconciled', ({ item }) => {
				const since = this.outbox.connection.get().lastConnectedAt ?? Number.POSITIVE_INFINITY;
				if (item.createdAt < since) this.#runWaited = true;
			}),
			this.outbox.events.on('queue-processing-complete', ({ reconciled }) => {
				if ((this.#runWaited || this.#forcing) && reconciled > 0) this.#toast = reconciled;
				this.#runWaited = false;
			}),
			this.outbox.connection.subscribe((state) => {
				if (state.status === 'connected') void this.rooms.refresh();
			})
		);
		if (typeof navigator !== 'undefined' && navigator.serviceWorker) {
			// The service worker delivered the queue by Background Sync (no tab could): say so too.
			const onWorkerMessage = (event: MessageEvent) => {
				const data = event.data as Partial<FlushReportMessage> | null;
				if (data?.type !== FLUSH_REPORT || !data.ok || data.report?.userId !== this.user?.id) return;
				const sent = data.report?.sent.length ?? 0;
				if (sent > 0) this.#toast = sent;
			};
			navigator.serviceWorker.addEventListener('message', onWorkerMessage);
			this.#stops.push(() => navigator.serviceWorker.removeEventListener('message', onWorkerMessage));
		}
		if (typeof window !== 'undefined') {
			// Unread counts of the other rooms: no pushes come from rooms we are not in, so ask now and then.
			const refreshRooms = () => {
				if (document.visibilityState === 'visible' && this.outbox.connection.get().status === 'connected') void this.rooms.refresh();
			};
			const timer = setInterval(refreshRooms, ROOMS_REFRESH_MS);
			document.addEventListener('visibilitychange', refreshRooms);
			this.#stops.push(
				() => clearInterval(timer),
				() => document.removeEventListener('visibilitychange', refreshRooms)
			);
			// Another tab signed in or out: follow it.
			const onStorage = (event: StorageEvent) => {
				if (event.key === SESSION_KEY) void this.#adopt(loadSession());
			};
			window.addEventListener('storage', onStorage);
			this.#stops.push(() => window.removeEventListener('storage', onStorage));
		}
	}

	get session(): Session | null {
		return this.#session;
	}
	get user(): Session['user'] | null {
		return this.#session?.user ?? null;
	}
	/** `navigator.onLine`, as the engine's connectivity port reports it. */
	get online(): boolean {
		return this.#online;
	}
	/** The server refused the session (token revoked or expired): ask to sign in again. */
	get signedOut(): boolean {
		return this.connection.reason === 'unauthorized' || this.error.current?.kind === 'unauthorized';
	}
	/** Actions confirmed by the last sync run (never 0), while the toast shows; null: no toast. */
	get toast(): number | null {
		return this.#toast;
	}
	get syncing(): boolean {
		return this.#syncing;
	}

	/**
	 * The room facade for `topic`, counted: a room shown twice (a re-keyed
	 * view mounting before the old one is gone) is left only by the last.
	 * Pair every call with `releaseRoom`.
	 */
	holdRoom(topic: string): Room {
		this.#roomHolds.set(topic, (this.#roomHolds.get(topic) ?? 0) + 1);
		return this.chat.room(topic);
	}

	/** Leave the room once nothing shows it (its snapshot stays stored for next time). */
	releaseRoom(topic: string): void {
		const holds = (this.#roomHolds.get(topic) ?? 0) - 1;
		if (holds > 0) return void this.#roomHolds.set(topic, holds);
		this.#roomHolds.delete(topic);
		this.chat.room(topic).leave();
	}

	dismissToast(): void {
		this.#toast = null;
	}

	/** Sign in (or create the account); resolves with the error sentence, or null when signed in. */
	async signIn(name: string, password: string): Promise<string | null> {
		const result = await signIn(name, password);
		if (!result.ok) return result.message;
		this.#resumeName = null;
		saveSession(result.session);
		await this.#adopt(result.session);
		return null;
	}

	/** Sign out: stop sending, forget the session here and on the server. The queue stays stored for this user. */
	async signOut(): Promise<void> {
		const signedIn = this.#session !== null;
		clearSession();
		await this.#adopt(null);
		// After setUser(null): the server closing our sockets must not look like a refused token.
		if (signedIn) void revokeSession();
	}

	/** The banner's "Sign in" (token refused): back to the form, the queue kept for when this user returns. */
	async signInAgain(): Promise<void> {
		this.#resumeName = this.user?.name ?? null;
		clearSession();
		await this.#adopt(null);
	}

	/** Who was asked to sign in again (the server refused their session), for the sign-in page to say so. */
	get resumeName(): string | null {
		return this.#resumeName;
	}

	/** The banner's "Retry now": connect now instead of waiting for the backoff, then send what waits. */
	retryNow(): void {
		this.outbox.reconnect();
		if (this.outbox.user) void this.outbox.flush();
	}

	/**
	 * "Sync now": send what waits, then ask the server for every open room's
	 * changes. The toast counts what it delivered; with nothing waiting there
	 * is no toast ("Synced 0 actions" says nothing useful).
	 */
	async forceSync(): Promise<void> {
		if (this.#syncing || !this.outbox.user) return;
		this.#syncing = true;
		this.#forcing = true;
		try {
			if (this.outbox.connection.get().status !== 'connected') this.outbox.reconnect();
			await this.outbox.sync();
		} finally {
			this.#forcing = false;
			this.#syncing = false;
		}
	}

	close(): void {
		for (const stop of this.#stops.splice(0)) stop();
		this.chat.close();
		void this.outbox.close();
	}

	/** Make `session` the signed-in one (null: nobody); the engine switches its user (and queue) with it. */
	async #adopt(session: Session | null): Promise<void> {
		const previous = this.#session;
		this.#session = session;
		this.#toast = null;
		// From null first, so a refused session of the same user starts afresh (new cookie, sending again).
		if (this.outbox.user && (session === null || previous !== session)) await this.outbox.setUser(null);
		if (session) await this.outbox.setUser(session.user);
		this.rooms.reset();
	}
}

const KEY = Symbol('outbox-app');

export function setAppContext(app: AppState): AppState {
	return setContext(KEY, app);
}

export function getAppContext(): AppState {
	if (!hasContext(KEY)) throw new Error('getAppContext: no app state here; the root layout sets it');
	return getContext<AppState>(KEY);
}
