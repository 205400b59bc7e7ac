/**
 * SvelteKit's server hooks: its errors go to the JSON log (never coloured
 * text on stdout), and a page's Content-Security-Policy (kit.csp in
 * svelte.config.js) names the socket's exact origin in `connect-src`, since
 * not every browser counts `ws:`/`wss:` of the page's own host as 'self'.
 */
import type { Handle, HandleServerError } from '@sveltejs/kit';
import { createLogger } from '$lib/server/logger';
import { LOG_LEVELS } from '$lib/server/config';

const level = (LOG_LEVELS as readonly string[]).includes(process.env.LOG_LEVEL ?? '') ? process.env.LOG_LEVEL! : 'info';
const logger = createLogger(level).child({ source: 'sveltekit' });

export const handleError: HandleServerError = ({ error, event, status, message }) => {
	// A 404 is already in the access log; anything else is a fault worth its stack.
	if (status === 404) logger.debug({ path: event.url.pathname, status }, message);
	else logger.error({ err: error, path: event.url.pathname, status }, 'page failed');
	return { message };
};

export const handle: Handle = async ({ event, resolve }) => {
	const response = await resolve(event);
	const csp = response.headers.get('content-security-policy');
	if (csp && csp.includes("connect-src 'self'")) {
		const socketOrigin = `${event.url.protocol === 'https:' ? 'wss' : 'ws'}://${event.url.host}`;
		response.headers.set('content-security-policy', csp.replace("connect-src 'self'", `connect-src 'self' ${socketOrigin}`));
	}
	return response;
};
