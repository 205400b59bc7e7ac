/**
 * The built app's static files (`build/client`), served in front of
 * SvelteKit's own handler. adapter-node's file server writes the headers,
 * then opens the file with no error listener: a file that vanished since
 * start (a rebuild, a cleanup) emits an unhandled `error` and ends the whole
 * process. Here the file is opened *before* anything is written, so a
 * missing file is a plain 404, and a read that fails later costs only that
 * one response. Same behaviour otherwise: precompressed `.br`/`.gz`
 * variants, weak ETags, a year of `immutable` caching for hashed assets.
 *
 * ```ts
 * const statics = createStaticFiles('build/client', { logger });
 * if (!(await statics.handle(req, res))) pages(req, res);
 * ```
 */
import { readdirSync, statSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join, relative, sep } from 'node:path';
import { pipeline } from 'node:stream';
import { lookup } from 'mrmime';
import type { Logger } from '../channels/types.js';
import { STATIC_CSP } from './security-headers.js';

interface Variant {
	file: string;
	encoding: 'br' | 'gzip' | null;
}

interface Entry {
	type: string;
	/** Best first: br, gzip, then the plain file. */
	variants: Variant[];
}

export interface StaticFiles {
	/** Serve the file if the build has one at this path; resolves false for anything else. */
	handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
	/** Number of paths served. */
	readonly size: number;
}

export interface StaticFilesOptions {
	logger: Logger;
	/** URL prefix of content-hashed files, cached for a year. */
	immutablePrefix?: string;
}

const ENCODED = /\.(br|gz)$/;
const TEXT_TYPES = /^(text\/|application\/(javascript|json|manifest\+json|xml))|\+xml$/;

/** Scan `dir` once (like adapter-node does at start); a missing dir serves nothing. */
export function createStaticFiles(dir: string, options: StaticFilesOptions): StaticFiles {
	if (typeof dir !== 'string' || dir === '') throw new TypeError('createStaticFiles(dir) needs the directory of the built client');
	if (typeof options?.logger?.warn !== 'function') throw new TypeError('createStaticFiles: options.logger is required');
	const { logger, immutablePrefix = '/_app/immutable/' } = options;
	const table = scan(dir);

	async function handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
		if (req.method !== 'GET' && req.method !== 'HEAD') return false;
		const path = decodedPath(req.url);
		const entry = path === null ? undefined : table.get(path);
		if (!entry || path === null) return false;

		const accepted = req.headers['accept-encoding'] ?? '';
		let file: FileHandle | null = null;
		let variant: Variant | undefined;
		for (const candidate of entry.variants) {
			if (candidate.encoding && !acceptsEncoding(accepted, candidate.encoding)) continue;
			try {
				file = await open(candidate.file, 'r');
				variant = candidate;
				break;
			} catch (err) {
				logger.warn({ err, path }, 'static file is gone');
			}
		}
		if (!file || !variant) {
			res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' }).end('not found');
			return true;
		}
		try {
			const stats = await file.stat();
			const etag = `W/"${stats.size}-${Math.trunc(stats.mtimeMs)}"`;
			const headers: Record<string, string | number> = {
				'content-type': entry.type,
				etag,
				'last-modified': stats.mtime.toUTCString(),
				'content-security-policy': STATIC_CSP
			};
			if (entry.variants.length > 1) headers.vary = 'Accept-Encoding';
			if (path.startsWith(immutablePrefix)) headers['cache-control'] = 'public, max-age=31536000, immutable';
			if (req.headers['if-none-match'] === etag) {
				res.writeHead(304, headers).end();
				await file.close();
				return true;
			}
			if (variant.encoding) headers['content-encoding'] = variant.encoding;
			headers['content-length'] = stats.size;
			res.writeHead(200, headers);
		} catch (err) {
			await file.close().catch(() => {});
			throw err;
		}
		if (req.method === 'HEAD') {
			res.end();
			await file.close();
			return true;
		}
		const stream = file.createReadStream();
		pipeline(stream, res, (err) => {
			// The client went away, or the disk failed mid-file: this response is lost, nothing else.
			if (err && (err as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE') {
				logger.warn({ err, path }, 'static file stream failed');
			}
		});
		return true;
	}

	return { handle, size: table.size };
}

/** URL path -> what to serve, from the files present now. */
function scan(dir: string): Map<string, Entry> {
	const table = new Map<string, Entry>();
	let files: string[];
	try {
		if (!statSync(dir).isDirectory()) return table;
		files = readdirSync(dir, { recursive: true, encoding: 'utf8' });
	} catch {
		return table;
	}
	const present = new Set(files.map((name) => join(dir, name)));
	for (const name of files) {
		const file = join(dir, name);
		if (!statSync(file).isFile()) continue;
		// `x.js.br` is a variant of `x.js`, unless no `x.js` exists.
		if (ENCODED.test(name) && present.has(file.replace(ENCODED, ''))) continue;
		const urlPath = '/' + relative(dir, file).split(sep).join('/');
		const type = contentType(urlPath);
		const variants: Variant[] = [];
		for (const [suffix, encoding] of [['.br', 'br'], ['.gz', 'gzip']] as const) {
			if (present.has(file + suffix)) variants.push({ file: file + suffix, encoding });
		}
		variants.push({ file, encoding: null });
		table.set(urlPath, { type, variants });
	}
	return table;
}

function contentType(path: string): string {
	const type = lookup(path) ?? 'application/octet-stream';
	return TEXT_TYPES.test(type) ? `${type}; charset=utf-8` : type;
}

function decodedPath(url: string | undefined): string | null {
	const path = (url ?? '/').split('?')[0]!;
	try {
		return decodeURIComponent(path);
	} catch {
		return null;
	}
}

/** `Accept-Encoding` names the coding without `;q=0`. */
function acceptsEncoding(header: string | string[], encoding: string): boolean {
	const value = Array.isArray(header) ? header.join(',') : header;
	for (const part of value.split(',')) {
		const [name, ...params] = part.trim().split(';');
		if (name?.trim().toLowerCase() !== encoding) continue;
		return !params.some((p) => /^\s*q=0(\.0*)?\s*$/.test(p));
	}
	return false;
}
