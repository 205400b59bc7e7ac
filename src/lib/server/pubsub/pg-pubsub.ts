/**
 * The cluster PubSub: PostgreSQL LISTEN/NOTIFY on one dedicated connection.
 *
 * Echo handling: a publish is delivered to this process's subscribers at
 * once, synchronously (as the in-process pub/sub does, so a broadcast still
 * reaches local sockets before the handler's reply, and still does while the
 * database is unreachable), and is then sent as a NOTIFY tagged with this
 * instance's random origin id. Our own notifications come back to us (we
 * LISTEN on the same channel) and are dropped by that id: each message is
 * delivered exactly once per process.
 *
 * Order: NOTIFYs go out one at a time, in publish order, on the one
 * connection; PostgreSQL delivers one session's notifications in commit
 * order; received ones are handled one at a time. So messages from one
 * process arrive everywhere in the order they were published.
 *
 * Size: a NOTIFY payload must stay under 8000 bytes. A larger message is
 * written to `pubsub_payloads` and the notification carries its row id; rows
 * older than `payloadRetentionMs` are pruned by later large publishes.
 *
 * Failure: if the connection drops it is reopened with exponential backoff
 * (logged). Publishes made meanwhile wait in memory and go out once it is back;
 * notifications other processes sent meanwhile are lost (NOTIFY is not
 * durable): once it is back, a local `{kind: 'gap'}` message tells the
 * channel server, which closes its sockets so every client reconnects and
 * syncs (as it does after any reconnect). A notification that cannot be read
 * is a gap too. The connection's `application_name` is `outbox-pubsub <pid>
 * <channel>`, so an operator (or a test) can find one process's LISTEN.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { PubSub, PubSubMessage } from '../channels/types.js';
import { silentLogger, type Logger } from '../logger.js';
import {
	checkConnectionOptions,
	clientConfig,
	connectError,
	isConnectionError,
	quoteIdent,
	type PgConnectionOptions
} from '../store/pg-connection.js';
import { migrate } from '../store/pg-migrations.js';
import { decodeNotification, encodeInline, encodeRef, INLINE_MAX_BYTES } from './pg-pubsub-wire.js';

export interface PgPubSubOptions extends PgConnectionOptions {
	/** NOTIFY channel; default `outbox` (`outbox_<schema>` outside `public`, so schemas never cross-talk). */
	channel?: string;
	logger?: Logger;
	/** How long large payloads are kept for receivers to fetch; default 300_000 (5 min). */
	payloadRetentionMs?: number;
	/** Reconnect backoff: first delay and cap in ms; default 100 and 5000. */
	reconnectMs?: { min: number; max: number };
	/** Publishes kept while disconnected before the oldest are dropped; default 10_000. */
	maxPending?: number;
}

interface Outgoing {
	kind: PubSubMessage['kind'];
	/** The NOTIFY payload, or null when the message is too large for one. */
	inline: string | null;
	/** The message as JSON, for the payload table. */
	json: string;
	resolve(): void;
	reject(error: Error): void;
}

/**
 * Connect, make sure the payload table exists, LISTEN, and return the PubSub.
 * Rejects with a message naming the server when PostgreSQL cannot be reached.
 *
 * @example
 * const pubsub = await createPgPubSub({ connectionString: process.env.DATABASE_URL! });
 * const channels = createChannelServer({ authenticate, routes, pubsub });
 */
export async function createPgPubSub(options: PgPubSubOptions): Promise<PubSub> {
	const schema = checkConnectionOptions('createPgPubSub', options);
	const {
		connectionString,
		channel = schema === 'public' ? 'outbox' : `outbox_${schema}`,
		logger = silentLogger,
		payloadRetentionMs = 300_000,
		reconnectMs = { min: 100, max: 5000 },
		maxPending = 10_000
	} = options;
	if (typeof channel !== 'string' || channel === '' || Buffer.byteLength(channel) > 63) {
		throw new TypeError(`createPgPubSub: channel must be a non-empty name of at most 63 bytes, got ${JSON.stringify(channel)}`);
	}
	const origin = randomBytes(8).toString('hex');
	const handlers = new Set<(message: PubSubMessage) => void>();
	const outgoing: Outgoing[] = [];
	let client: pg.Client | null = null;
	let closed = false;
	let pumping: Promise<void> | null = null;
	/** The client a send failed on for want of a connection: do not drain into it again. */
	let stalled: pg.Client | null = null;
	let inbox: Promise<void> = Promise.resolve();
	let reconnectTimer: NodeJS.Timeout | undefined;
	let lastPruneAt = 0;

	async function open(isFirst: boolean): Promise<pg.Client> {
		const c = new pg.Client(clientConfig(connectionString, schema, `outbox-pubsub ${process.pid} ${channel}`));
		c.on('error', (err) => onDown(c, err));
		c.on('end', () => onDown(c));
		c.on('notification', (n) => {
			if (n.channel === channel && !closed) receive(n.payload ?? '');
		});
		try {
			await c.connect().catch((cause: unknown) => {
				throw isFirst ? connectError('createPgPubSub', connectionString, cause) : cause;
			});
			if (isFirst) await migrate(c, schema);
			await c.query(`LISTEN ${quoteIdent(channel)}`);
			return c;
		} catch (error) {
			await c.end().catch(() => {});
			throw error;
		}
	}

	function onDown(c: pg.Client, err?: Error): void {
		if (c !== client) return; // a client we already gave up on
		client = null;
		c.end().catch(() => {});
		if (closed) return;
		logger.warn({ err, channel }, 'pubsub: lost the PostgreSQL connection; reconnecting (notifications sent meanwhile are missed)');
		scheduleReconnect(0);
	}

	function scheduleReconnect(attempt: number): void {
		const delay = Math.min(reconnectMs.max, reconnectMs.min * 2 ** attempt) * (0.75 + Math.random() / 2);
		reconnectTimer = setTimeout(async () => {
			try {
				const c = await open(false);
				if (closed) return void c.end().catch(() => {});
				client = c;
				stalled = null;
				logger.info({ channel, attempts: attempt + 1 }, 'pubsub: reconnected to PostgreSQL');
				void pump();
				deliver({ kind: 'gap', reason: 'listen connection lost' });
			} catch (err) {
				logger.warn({ err, channel, attempt: attempt + 1 }, 'pubsub: reconnect failed; retrying');
				if (!closed) scheduleReconnect(attempt + 1);
			}
		}, delay);
		reconnectTimer.unref();
	}

	/**
	 * Send queued publishes, oldest first, one at a time (that is what keeps
	 * them in order). One drain runs at a time; a publish arriving as it ends
	 * starts the next.
	 */
	function pump(): Promise<void> {
		pumping ??= drain().finally(() => {
			pumping = null;
			if (outgoing.length > 0 && client && client !== stalled) void pump();
		});
		return pumping;
	}

	async function drain(): Promise<void> {
		while (outgoing.length > 0 && client && client !== stalled) {
			const c = client;
			const item = outgoing[0]!;
			try {
				await send(c, item);
				outgoing.shift();
				item.resolve();
			} catch (error) {
				// The connection is gone: keep the item for the reconnect, which pumps again.
				if (isConnectionError(error)) {
					stalled = c;
					return;
				}
				outgoing.shift();
				fail(item, error as Error);
			}
		}
	}

	function fail(item: Outgoing, error: Error): void {
		logger.error({ err: error, kind: item.kind, channel }, 'pubsub: a publish did not reach other processes');
		item.reject(error);
	}

	async function send(c: pg.Client, item: Outgoing): Promise<void> {
		if (item.inline !== null) {
			await c.query({ name: 'outbox_pubsub_notify', text: 'SELECT pg_notify($1, $2)', values: [channel, item.inline] });
			return;
		}
		if (Date.now() - lastPruneAt > Math.min(10_000, payloadRetentionMs)) {
			lastPruneAt = Date.now();
			await c.query("DELETE FROM pubsub_payloads WHERE created_at < now() - $1 * interval '1 millisecond'", [payloadRetentionMs]);
		}
		// One statement: the row and the notification naming it commit together.
		await c.query({
			name: 'outbox_pubsub_notify_ref',
			text: `WITH p AS (INSERT INTO pubsub_payloads (body) VALUES ($2) RETURNING id)
				SELECT pg_notify($1, $3::text || p.id::text) FROM p`,
			values: [channel, item.json, encodeRef(origin, '')]
		});
	}

	function receive(text: string): void {
		const decoded = decodeNotification(text);
		if (decoded === null) return void logger.warn({ channel }, 'pubsub: ignored a notification it cannot read');
		if (decoded.origin === origin) return; // our own echo: delivered locally at publish time
		// Chained, so a large payload being fetched does not let later ones overtake it.
		inbox = inbox.then(async () => {
			let message = decoded.message;
			if (decoded.payloadId !== undefined) {
				const c = client;
				if (!c) throw new Error(`payload ${decoded.payloadId} could not be fetched: not connected`);
				const { rows } = await c.query<{ body: PubSubMessage }>({
					name: 'outbox_pubsub_fetch',
					text: 'SELECT body FROM pubsub_payloads WHERE id = $1',
					values: [decoded.payloadId]
				});
				if (!rows[0]) throw new Error(`payload ${decoded.payloadId} is gone (pruned before it was read)`);
				message = rows[0].body;
			}
			if (message) deliver(message);
		}).catch((err: unknown) => {
			logger.error({ err, channel }, 'pubsub: dropped a message from another process');
			deliver({ kind: 'gap', reason: 'a notification could not be read' });
		});
	}

	function deliver(message: PubSubMessage): void {
		for (const handler of handlers) {
			try {
				handler(message);
			} catch (err) {
				logger.error({ err, kind: message.kind }, 'pubsub: a subscriber threw');
			}
		}
	}

	client = await open(true);

	return {
		publish(message) {
			if (closed) throw new Error('pubsub is closed; publish before close()');
			// Encoded up front: a message that is not JSON throws here, before anyone got it.
			const json = JSON.stringify(message);
			const inline = encodeInline(origin, json);
			deliver(message);
			if (outgoing.length >= maxPending) {
				fail(outgoing.shift()!, new Error(`more than ${maxPending} publishes waiting for PostgreSQL; dropped the oldest`));
			}
			const sent = new Promise<void>((resolve, reject) =>
				outgoing.push({ kind: message.kind, inline: Buffer.byteLength(inline) <= INLINE_MAX_BYTES ? inline : null, json, resolve, reject })
			);
			// Failures are logged by fail(); a caller that ignores the promise must not crash the process.
			sent.catch(() => {});
			void pump();
			return sent;
		},
		subscribe(handler) {
			handlers.add(handler);
			return () => void handlers.delete(handler);
		},
		async close() {
			if (closed) return;
			// Give queued publishes a moment to reach the others before hanging up.
			const deadline = Date.now() + 1000;
			while (outgoing.length > 0 && client && client !== stalled && Date.now() < deadline) {
				await Promise.race([pump(), new Promise((r) => setTimeout(r, deadline - Date.now()).unref())]);
			}
			closed = true;
			clearTimeout(reconnectTimer);
			for (const item of outgoing.splice(0)) fail(item, new Error('pubsub closed before this was sent'));
			handlers.clear();
			const c = client;
			client = null;
			await c?.end().catch(() => {});
		}
	};
}
