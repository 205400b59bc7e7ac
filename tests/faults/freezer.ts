/**
 * Freezing one "tab" of this Node process, as a browser freezes a page (or as
 * a long task blocks its main thread): while frozen, none of the tab's code
 * runs — its timers do not fire, its BroadcastChannel messages, socket frames
 * and online/offline events are not delivered — and everything that came due
 * meanwhile runs on thaw, in the order it came (an interval's missed ticks
 * run once, as browsers do). Time goes on: a lease it wrote expires, a push
 * it sent is answered into its buffer.
 *
 * A tab is a `TabZone`. Code run inside `zone.run(fn)` (building the tab's
 * outbox, its coordinator and its socket) belongs to it, and so does every
 * timer that code sets, and every timer those timers set (the zone rides on
 * `AsyncLocalStorage`, which follows timers and promises). Events from
 * outside reach the tab through gates: its WebSocket class (`zone.WebSocket`,
 * handed to phoenix as its transport), the global `BroadcastChannel` (a
 * channel opened inside a zone delivers through its gate), and `zone.gate(fn)`
 * for anything else (the connectivity switch). Nothing in the kit knows: the
 * globals are replaced in this test process only (`installFreezer()`).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { WebSocket as WsWebSocket } from 'ws';

const current = new AsyncLocalStorage<TabZone>();

/** The real timers, for code that must run while a tab is frozen (thawing it). */
export const realTimers = {
	setTimeout: globalThis.setTimeout.bind(globalThis),
	clearTimeout: globalThis.clearTimeout.bind(globalThis),
	setInterval: globalThis.setInterval.bind(globalThis),
	clearInterval: globalThis.clearInterval.bind(globalThis)
};

interface Held {
	run: () => void;
	cancelled: boolean;
}

export class TabZone {
	readonly name: string;
	#frozen = false;
	/** Thawed, running what it was due, one task at a time; new events queue behind. */
	#draining = false;
	#stepping = false;
	#drained: Array<() => void> = [];
	#held: Held[] = [];
	/** Held interval ticks by timer handle: one per interval at most. */
	#heldTicks = new Map<unknown, Held>();
	/** Called when an action push (`send_message` / `send_batch`) leaves this tab's socket. */
	onActionPush: (() => void) | null = null;
	/** The WebSocket class for this tab's socket (hand it to phoenix as `transport`). */
	readonly WebSocket: new (...args: ConstructorParameters<typeof WsWebSocket>) => WsWebSocket;

	constructor(name: string) {
		this.name = name;
		// eslint-disable-next-line @typescript-eslint/no-this-alias
		const zone = this;
		this.WebSocket = class ZonedWebSocket extends WsWebSocket {
			constructor(...args: ConstructorParameters<typeof WsWebSocket>) {
				super(...args);
				gateHandlers(this, ['onopen', 'onmessage', 'onclose', 'onerror'], zone);
			}
			override send(data: unknown, ...rest: unknown[]): void {
				(super.send as (...args: unknown[]) => void)(data, ...rest);
				if (zone.onActionPush && typeof data === 'string' && /^\[[^,]*,[^,]*,[^,]*,"send_(message|batch)"/.test(data)) zone.onActionPush();
			}
		};
	}

	/** Frozen, or not yet through what it was due on thaw. */
	get frozen(): boolean {
		return this.#frozen || this.#draining;
	}

	/** Run `fn` as this tab's code (what it sets up belongs to the tab). */
	run<T>(fn: () => T): T {
		return current.run(this, fn);
	}

	/** `fn`, delivered to this tab: held while it is frozen, run as its code. */
	gate<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void {
		return (...args: A) => this.#deliver(() => fn(...args));
	}

	freeze(): void {
		this.#frozen = true;
	}

	/**
	 * Resume: what came due meanwhile runs, in order, each as its own task (promise jobs run
	 * between them, as in a browser); what arrives meanwhile queues behind. `idle()` resolves
	 * once through.
	 */
	thaw(): void {
		if (!this.#frozen) return;
		this.#frozen = false;
		this.#draining = true;
		this.#step();
	}

	/** Resolves when the tab is neither frozen nor running what it was due. */
	idle(): Promise<void> {
		if (!this.frozen) return Promise.resolve();
		return new Promise((resolve) => this.#drained.push(resolve));
	}

	#step(): void {
		if (this.#stepping) return;
		this.#stepping = true;
		setImmediate(() => {
			this.#stepping = false;
			if (this.#frozen) return; // frozen again: the rest stays held
			const held = this.#held.shift();
			if (!held) {
				this.#draining = false;
				for (const resolve of this.#drained.splice(0)) resolve();
				return;
			}
			for (const [handle, tick] of this.#heldTicks) if (tick === held) this.#heldTicks.delete(handle);
			try {
				if (!held.cancelled) this.run(held.run);
			} finally {
				this.#step();
			}
		});
	}

	#deliver(run: () => void, held?: Held): void {
		if (!this.frozen) return this.run(run);
		this.#held.push(held ?? { run, cancelled: false });
	}

	/** A timer of this tab came due. */
	timerFired(handle: unknown, run: () => void, repeating: boolean): void {
		if (!this.frozen) return this.run(run);
		if (repeating) {
			if (this.#heldTicks.has(handle)) return; // missed ticks of an interval run once
			const held = { run, cancelled: false };
			this.#heldTicks.set(handle, held);
			this.#held.push(held);
			return;
		}
		const held = { run, cancelled: false };
		heldTimers.set(handle, held);
		this.#held.push(held);
	}

	/** A timer of this tab was cleared: its held run, if any, is dropped. */
	timerCleared(handle: unknown): void {
		const tick = this.#heldTicks.get(handle);
		if (tick) tick.cancelled = true;
		this.#heldTicks.delete(handle);
	}
}

/** Timeouts that fired while their tab was frozen, by handle (clearing one drops its held run). */
const heldTimers = new Map<unknown, Held>();
/** Which tab each live timer belongs to. */
const timerZones = new Map<unknown, TabZone>();
let installed = false;

/** Replace the global timers and `BroadcastChannel` with zone-aware ones (idempotent; outside a zone they behave as before). */
export function installFreezer(): void {
	if (installed) return;
	installed = true;
	const g = globalThis as unknown as Record<string, unknown>;
	g.setTimeout = ((callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
		const zone = current.getStore();
		if (!zone || typeof callback !== 'function') return realTimers.setTimeout(callback, ms, ...args);
		const handle: unknown = realTimers.setTimeout(() => {
			timerZones.delete(handle);
			zone.timerFired(
				handle,
				() => {
					heldTimers.delete(handle);
					callback(...args);
				},
				false
			);
		}, ms);
		timerZones.set(handle, zone);
		return handle;
	}) as typeof setTimeout;
	g.setInterval = ((callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
		const zone = current.getStore();
		if (!zone || typeof callback !== 'function') return realTimers.setInterval(callback, ms, ...args);
		const handle: unknown = realTimers.setInterval(() => zone.timerFired(handle, () => callback(...args), true), ms);
		timerZones.set(handle, zone);
		return handle;
	}) as typeof setInterval;
	const clear = (real: (handle: never) => void) => (handle: unknown) => {
		real(handle as never);
		const held = heldTimers.get(handle);
		if (held) held.cancelled = true;
		heldTimers.delete(handle);
		timerZones.get(handle)?.timerCleared(handle);
		timerZones.delete(handle);
	};
	g.clearTimeout = clear(realTimers.clearTimeout);
	g.clearInterval = clear(realTimers.clearInterval);

	const Real = globalThis.BroadcastChannel;
	g.BroadcastChannel = class ZonedBroadcastChannel extends Real {
		constructor(name: string) {
			super(name);
			const zone = current.getStore();
			if (zone) gateHandlers(this, ['onmessage'], zone);
		}
	};
}

/** Own `on<event>` properties on `target` that hand the prototype's setter a gated handler. */
function gateHandlers(target: object, names: string[], zone: TabZone): void {
	for (const name of names) {
		let proto: object | null = Object.getPrototypeOf(target);
		let descriptor: PropertyDescriptor | undefined;
		while (proto && !(descriptor = Object.getOwnPropertyDescriptor(proto, name))) proto = Object.getPrototypeOf(proto);
		if (!descriptor?.set || !descriptor.get) throw new Error(`freezer: ${name} is not an accessor`);
		const { get, set } = descriptor;
		let given: unknown = null;
		Object.defineProperty(target, name, {
			configurable: true,
			get: () => (get.call(target) === null ? null : given),
			set: (fn: unknown) => {
				given = fn;
				set.call(target, typeof fn === 'function' ? zone.gate(fn as (...args: unknown[]) => void) : fn);
			}
		});
	}
}
