/**
 * One lane's ordered list of item ids (creation order), built for the queue's
 * common moves: append at the tail (a new action) and remove at the head (a
 * confirmed one), both O(1) amortised. Removal from the head advances an
 * offset instead of shifting the array; the dead prefix is dropped once it
 * is both large and more than half of the array. Removal elsewhere and
 * out-of-order insertion (a retried item, another tab's add) cost O(lane).
 */
export class Lane {
	#ids: string[] = [];
	#head = 0;

	/** Live ids in the lane. */
	get size(): number {
		return this.#ids.length - this.#head;
	}

	/** The id at position `index` from the head, or undefined past the end. */
	at(index: number): string | undefined {
		return index < 0 ? undefined : this.#ids[this.#head + index];
	}

	/** The ids from head to tail. */
	*[Symbol.iterator](): IterableIterator<string> {
		for (let i = this.#head; i < this.#ids.length; i++) yield this.#ids[i] as string;
	}

	/**
	 * Insert `id` in order. `compare(a, b) < 0` means `a` was made before `b`.
	 * Appending in creation order, the common case, is O(1).
	 */
	insert(id: string, compare: (a: string, b: string) => number): void {
		const ids = this.#ids;
		const last = ids[ids.length - 1];
		if (this.size === 0 || last === undefined || compare(last, id) <= 0) {
			ids.push(id);
			return;
		}
		let lo = this.#head;
		let hi = ids.length;
		while (lo < hi) {
			const mid = (lo + hi) >>> 1;
			if (compare(ids[mid] as string, id) <= 0) lo = mid + 1;
			else hi = mid;
		}
		ids.splice(lo, 0, id);
	}

	/** Remove `id`; returns whether it was in the lane. */
	remove(id: string): boolean {
		const ids = this.#ids;
		if (ids[this.#head] === id) {
			this.#head++;
			this.#compact();
			return true;
		}
		const index = ids.indexOf(id, this.#head);
		if (index < 0) return false;
		ids.splice(index, 1);
		return true;
	}

	#compact(): void {
		if (this.#head === this.#ids.length) {
			this.#ids = [];
			this.#head = 0;
		} else if (this.#head > 1024 && this.#head * 2 > this.#ids.length) {
			this.#ids = this.#ids.slice(this.#head);
			this.#head = 0;
		}
	}
}
