import { describe, expect, it } from 'vitest';
import { createBrowserConnectivity, type ConnectivityTarget } from '../../../../src/lib/outbox/adapters/browser-connectivity.js';
import type { ConnectivityState } from '../../../../src/lib/outbox/ports.js';

/** A stand-in window: an EventTarget with navigator.onLine and a document with visibilityState. */
function fakeWindow(online = true) {
	const win = new EventTarget() as EventTarget & ConnectivityTarget & { reads: number };
	const doc = Object.assign(new EventTarget(), { visibilityState: 'visible' });
	let onLine = online;
	win.reads = 0;
	win.navigator = {
		get onLine() {
			win.reads++;
			return onLine;
		}
	};
	win.document = doc;
	let listeners = 0;
	const add = win.addEventListener.bind(win);
	const remove = win.removeEventListener.bind(win);
	win.addEventListener = (type: string, fn: () => void) => (listeners++, add(type, fn));
	win.removeEventListener = (type: string, fn: () => void) => (listeners--, remove(type, fn));
	return {
		win,
		listeners: () => listeners,
		goOffline() {
			onLine = false;
			win.dispatchEvent(new Event('offline'));
		},
		goOnline() {
			onLine = true;
			win.dispatchEvent(new Event('online'));
		},
		hide() {
			doc.visibilityState = 'hidden';
			doc.dispatchEvent(new Event('visibilitychange'));
		}
	};
}

describe('createBrowserConnectivity', () => {
	it('without a window (SSR, Node) is always online and visible, and subscribing is harmless', () => {
		const connectivity = createBrowserConnectivity({});
		const seen: ConnectivityState[] = [];
		const stop = connectivity.subscribe((s) => seen.push(s));
		expect(connectivity.current()).toEqual({ online: true, visible: true });
		stop();
		expect(seen).toEqual([]);
	});

	it('reads no global when created, and listens only while subscribed', () => {
		const fake = fakeWindow();
		const connectivity = createBrowserConnectivity(fake.win);
		expect(fake.win.reads).toBe(0);
		expect(fake.listeners()).toBe(0);
		const stopA = connectivity.subscribe(() => {});
		const stopB = connectivity.subscribe(() => {});
		expect(fake.listeners()).toBe(2);
		stopA();
		stopA();
		expect(fake.listeners()).toBe(2);
		stopB();
		expect(fake.listeners()).toBe(0);
	});

	it('reports offline, online and hidden as they happen, each change once', () => {
		const fake = fakeWindow();
		const connectivity = createBrowserConnectivity(fake.win);
		const seen: ConnectivityState[] = [];
		connectivity.subscribe((s) => seen.push(s));
		fake.goOffline();
		fake.win.dispatchEvent(new Event('offline')); // repeated: no second report
		expect(connectivity.current()).toEqual({ online: false, visible: true });
		fake.goOnline();
		fake.hide();
		expect(seen).toEqual([
			{ online: false, visible: true },
			{ online: true, visible: true },
			{ online: true, visible: false }
		]);
		expect(connectivity.current()).toEqual({ online: true, visible: false });
	});

	it('starts from navigator.onLine when the first listener subscribes', () => {
		const fake = fakeWindow(false);
		const connectivity = createBrowserConnectivity(fake.win);
		expect(connectivity.current()).toEqual({ online: false, visible: true });
		const seen: ConnectivityState[] = [];
		connectivity.subscribe((s) => seen.push(s));
		fake.goOnline();
		expect(seen).toEqual([{ online: true, visible: true }]);
	});
});
