// The soak's checking logic, kept apart from sockets and processes so that a
// unit test can feed it made-up records (tests/unit/bench/soak-check.test.ts).
//
// Per room, `seq` is gap-free from 1 (DESIGN.md), so what each socket must
// end up knowing is exactly 1..n, n being the room's number of messages.
// A socket learns a message in one of three ways:
//   - live: a `new_message` push while joined (never its own message);
//   - own: the reply to its own first `send_message` of that client_id;
//   - synced: a `sync:complete` page after a rejoin (may repeat what it knew:
//     a client upserts, so that is no duplicate), or the reply to a resend.
// Violations:
//   - duplicated: a message delivered twice (live or own) to one socket, on
//     one connection or across its reconnects; or one client_id stored at two seqs;
//   - reordered: a live push with a lower seq than an earlier live push on
//     the same connection;
//   - lost: a sent message never acknowledged; a seq of the room a socket
//     never learnt; a room whose seqs are not 1..n or whose stored messages
//     differ from the acknowledged ones.

/**
 * Mulberry32 (as src/lib/outbox/testing/seeded-random.ts): uniform numbers in [0, 1) from `seed`.
 * @param {number} seed
 * @returns {() => number}
 */
export function seededRandom(seed) {
	let state = seed >>> 0;
	return () => {
		state = (state + 0x6d2b79f5) >>> 0;
		let t = state;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

/** A set of positive integers stored as "1..upTo" plus the few above it: small while the set is contiguous, as it should be. */
export class SeqSet {
	upTo = 0;
	/** @type {Set<number>} */
	above = new Set();

	/** @param {number} seq */
	has(seq) {
		return seq <= this.upTo || this.above.has(seq);
	}

	/** Add `seq`; false when it was already there. @param {number} seq */
	add(seq) {
		if (this.has(seq)) return false;
		if (seq === this.upTo + 1) {
			this.upTo++;
			while (this.above.delete(this.upTo + 1)) this.upTo++;
		} else this.above.add(seq);
		return true;
	}

	get size() {
		return this.upTo + this.above.size;
	}

	/** Up to `limit` seqs of 1..n not in the set. @param {number} n */
	missing(n, limit = 10) {
		const out = /** @type {number[]} */ ([]);
		for (let seq = this.upTo + 1; seq <= n && out.length < limit; seq++) if (!this.above.has(seq)) out.push(seq);
		return out;
	}

	/** How many seqs of 1..n are not in the set. @param {number} n */
	missingCount(n) {
		let inside = Math.min(this.upTo, n);
		for (const seq of this.above) if (seq <= n) inside++;
		return n - inside;
	}

	/** Seqs in the set above n (messages the room does not hold). @param {number} n */
	extra(n) {
		const out = /** @type {number[]} */ ([]);
		if (this.upTo > n) for (let seq = n + 1; seq <= this.upTo && out.length < 10; seq++) out.push(seq);
		for (const seq of this.above) if (seq > n) out.push(seq);
		return out;
	}
}

/** What one socket (across its reconnects) received of its room. */
export class SocketLedger {
	delivered = new SeqSet();
	known = new SeqSet();
	lastLive = 0;
	duplicated = 0;
	reordered = 0;
	/** The first few violations, as readable strings. @type {string[]} */
	samples = [];

	/** @param {string} text */
	#note(text) {
		if (this.samples.length < 5) this.samples.push(text);
	}

	/** A new connection joined: live order restarts. */
	connected() {
		this.lastLive = 0;
	}

	/** A `new_message` push with this seq. @param {number} seq */
	live(seq) {
		if (!this.delivered.add(seq)) {
			this.duplicated++;
			this.#note(`seq ${seq} delivered twice`);
		} else if (seq < this.lastLive) {
			this.reordered++;
			this.#note(`seq ${seq} pushed after seq ${this.lastLive}`);
		}
		this.lastLive = Math.max(this.lastLive, seq);
		this.known.add(seq);
	}

	/** The reply to this socket's first attempt of a send. @param {number} seq */
	own(seq) {
		if (!this.delivered.add(seq)) {
			this.duplicated++;
			this.#note(`own seq ${seq} also pushed to its sender`);
		}
		this.known.add(seq);
	}

	/** A message from a sync page, or the reply to a resend. @param {number} seq */
	synced(seq) {
		this.known.add(seq);
	}

	/** Against the room's final message count: what it never learnt and what it knows that the room does not hold. @param {number} n */
	check(n) {
		return { missing: this.known.missingCount(n), missingSample: this.known.missing(n, 5), extra: this.known.extra(n) };
	}
}

/**
 * Check every send against its acknowledgements. `sent`: [clientId, room]
 * per send (first attempts only). `acks`: [clientId, room, seq] per `ok`
 * reply (a resend's too). Returns, per room, its message count n (rooms
 * without messages are absent), and the violations: sends never acked
 * (`lost`), client_ids acked with two seqs (`duplicated`), seqs given to
 * two client_ids, and rooms whose acked seqs are not exactly 1..n.
 * @param {Array<[string, number]>} sent
 * @param {Array<[string, number, number]>} acks
 */
export function checkAcks(sent, acks) {
	/** @type {Map<string, number>} */
	const seqOf = new Map();
	const roomOf = new Map(sent.map(([clientId, room]) => [clientId, room]));
	let duplicated = 0;
	let unknown = 0;
	/** @type {string[]} */
	const samples = [];
	/** @param {string} text */
	const note = (text) => {
		if (samples.length < 10) samples.push(text);
	};
	for (const [clientId, room, seq] of acks) {
		if (roomOf.get(clientId) !== room) {
			unknown++;
			note(`ack for ${clientId} in room ${room}, which was not sent there`);
			continue;
		}
		const before = seqOf.get(clientId);
		if (before === undefined) seqOf.set(clientId, seq);
		else if (before !== seq) {
			duplicated++;
			note(`${clientId} acked as seq ${before} and as seq ${seq}`);
		}
	}
	let lost = 0;
	/** @type {Map<number, Map<number, string>>} */
	const bySeq = new Map();
	for (const [clientId, room] of roomOf) {
		const seq = seqOf.get(clientId);
		if (seq === undefined) {
			lost++;
			note(`${clientId} (room ${room}) never acked`);
			continue;
		}
		if (!bySeq.has(room)) bySeq.set(room, new Map());
		const seqs = /** @type {Map<number, string>} */ (bySeq.get(room));
		if (seqs.has(seq)) {
			duplicated++;
			note(`room ${room} seq ${seq} given to ${seqs.get(seq)} and ${clientId}`);
		} else seqs.set(seq, clientId);
	}
	/** @type {Map<number, number>} */
	const rooms = new Map();
	let gaps = 0;
	for (const [room, seqs] of bySeq) {
		const n = seqs.size;
		for (let seq = 1; seq <= n; seq++) {
			if (!seqs.has(seq)) {
				gaps++;
				note(`room ${room}: ${n} messages acked but seq ${seq} is not one of them`);
				break;
			}
		}
		rooms.set(room, n);
	}
	return { rooms, acked: seqOf.size, lost, duplicated, unknown, gaps, samples };
}

/**
 * Compare what a room holds (`stored`: [clientId, seq] from a sync from
 * the start) with what was acked there (`acked`: clientId -> seq).
 * @param {number} room
 * @param {Array<[string, number]>} stored
 * @param {Map<string, number>} acked
 * @returns {string[]}
 */
export function checkRoom(room, stored, acked) {
	/** @type {string[]} */
	const problems = [];
	const seen = new Set();
	stored.forEach(([clientId, seq], i) => {
		if (seq !== i + 1) problems.push(`room ${room}: position ${i + 1} holds seq ${seq}`);
		if (seen.has(clientId)) problems.push(`room ${room}: ${clientId} stored twice`);
		seen.add(clientId);
		if (acked.get(clientId) !== seq) problems.push(`room ${room}: ${clientId} stored as seq ${seq}, acked as ${acked.get(clientId)}`);
	});
	for (const clientId of acked.keys()) if (!seen.has(clientId)) problems.push(`room ${room}: acked ${clientId} not stored`);
	return problems;
}

/**
 * The RSS verdict over the interval lines after warm-up: the first third
 * is warm-up; compare the mean of the last third with the middle third,
 * and fit a slope (MB per minute) over both. `rising` when the last third
 * is more than `tolerance` (5 %) above the middle third; `too short` under
 * 6 lines.
 * @param {Array<{ minutes: number, rssMB: number }>} points
 */
export function rssTrend(points, tolerance = 0.05) {
	if (points.length < 6) return { verdict: 'too short', intervals: points.length };
	const third = Math.floor(points.length / 3);
	const middle = points.slice(third, 2 * third);
	const last = points.slice(points.length - third);
	/** @param {Array<{ minutes: number, rssMB: number }>} xs */
	const mean = (xs) => xs.reduce((s, p) => s + p.rssMB, 0) / xs.length;
	const after = points.slice(third);
	const mx = after.reduce((s, p) => s + p.minutes, 0) / after.length;
	const my = mean(after);
	let num = 0;
	let den = 0;
	for (const p of after) {
		num += (p.minutes - mx) * (p.rssMB - my);
		den += (p.minutes - mx) ** 2;
	}
	const middleMB = mean(middle);
	const lastMB = mean(last);
	const change = (lastMB - middleMB) / middleMB;
	return {
		verdict: change > tolerance ? 'rising' : 'flat',
		warmupIntervals: third,
		middleThirdMeanMB: +middleMB.toFixed(1),
		lastThirdMeanMB: +lastMB.toFixed(1),
		changePercent: +(change * 100).toFixed(2),
		slopeMBPerMinute: den ? +(num / den).toFixed(3) : 0
	};
}
