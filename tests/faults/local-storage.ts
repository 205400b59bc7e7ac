/** `localStorage` for the lease election in Node (shared by every tab of this process, as one browser profile). */
export function installLocalStorage(): void {
	const g = globalThis as { localStorage?: Storage };
	if (g.localStorage) return;
	const data = new Map<string, string>();
	g.localStorage = {
		get length() {
			return data.size;
		},
		key: (i: number) => [...data.keys()][i] ?? null,
		getItem: (key: string) => data.get(key) ?? null,
		setItem: (key: string, value: string) => void data.set(key, String(value)),
		removeItem: (key: string) => void data.delete(key),
		clear: () => data.clear()
	};
}
