/**
 * The checklist's own server: Outbox's Phoenix Channels layer
 * (`createChannelServer`, the same protocol the official `phoenix` client
 * speaks to a Phoenix app), one `list:*` channel and an idempotent store.
 * It also serves the built app (`STATIC_DIR`) and `GET /debug/applied`, the
 * store's log of applied actions, for the example's end-to-end test.
 *
 *   PORT=5180 STATIC_DIR=dist node server.js
 */
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { createChannelServer, type ChannelContext, type HandlerReply } from '../../../src/lib/server/channels/index.js';
import { ChecklistStore } from './store.js';

interface Assigns {
	user: string;
}

const port = Number(process.env.PORT ?? 5180);
const staticDir = process.env.STATIC_DIR ?? 'dist';
const store = new ChecklistStore();
const listOf = (ctx: ChannelContext<Assigns>) => ctx.topic.slice('list:'.length);

/** One action: apply it once, reply, and tell the list's other sockets (Phoenix's broadcast_from). */
function action(type: string) {
	return (ctx: ChannelContext<Assigns>, payload: unknown): HandlerReply => {
		const outcome = store.apply(ctx.assigns.user, listOf(ctx), type, payload);
		if (outcome.status === 'ok') ctx.broadcastFrom('item_changed', { item: outcome.response.item });
		return outcome;
	};
}

const channels = createChannelServer<Assigns>({
	// A demo token: `user-<name>`. A real app verifies a signed token here.
	authenticate: ({ token }) => (token && /^user-[a-z0-9]{1,20}$/.test(token) ? { user: token.slice(5) } : null),
	socketKey: (assigns) => `user:${assigns.user}`,
	routes: [
		{
			pattern: 'list:*',
			join: (ctx) => (/^list:[a-z0-9-]{1,40}$/.test(ctx.topic) ? { status: 'ok', response: {} } : { status: 'error', response: { reason: 'invalid' } }),
			events: {
				item_add: action('item_add'),
				item_toggle: action('item_toggle'),
				item_rename: action('item_rename'),
				// Several actions in one push, each answered in its place (the kit's `batchEvent`).
				batch(ctx, payload) {
					const list = (payload as { actions?: unknown } | null)?.actions;
					if (!Array.isArray(list) || list.length > 100) return { status: 'error', response: { reason: 'invalid', message: 'actions: at most 100' } };
					const results = list.map((entry) => {
						const { client_id, type, payload: inner } = (entry ?? {}) as { client_id?: unknown; type?: unknown; payload?: unknown };
						const outcome = store.apply(ctx.assigns.user, listOf(ctx), String(type), { ...(inner as object), client_id });
						if (outcome.status === 'ok') ctx.broadcastFrom('item_changed', { item: outcome.response.item });
						return { client_id, status: outcome.status, ...outcome.response };
					});
					return { status: 'ok', response: { results } };
				},
				fetch: (ctx) => ({ status: 'ok', response: { items: store.items(listOf(ctx)) } })
			}
		}
	]
});

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' };

const server = createServer(async (req, res) => {
	if (channels.handleLongPoll(req, res)) return;
	const path = new URL(req.url ?? '/', 'http://x').pathname;
	if (path === '/debug/applied') {
		res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ applied: store.applied, items: store.items('groceries') }));
		return;
	}
	const file = join(staticDir, normalize(path).replace(/^(\.\.[/\\])+/, ''));
	const target = (await stat(file).catch(() => null))?.isFile() ? file : join(staticDir, 'index.html');
	try {
		const body = await readFile(target);
		res.writeHead(200, { 'content-type': TYPES[extname(target)] ?? 'application/octet-stream', 'cache-control': 'no-store' }).end(body);
	} catch {
		res.writeHead(404).end('not found');
	}
});
channels.attach(server);
server.listen(port, '127.0.0.1', () => console.log(`checklist on http://127.0.0.1:${port}`));
process.on('SIGTERM', () => void channels.close().then(() => process.exit(0)));
