import { error } from '@sveltejs/kit';
import { isSlug } from '$lib/components/slug.js';
import type { PageLoad } from './$types';

/** `/rooms/<slug>`: the room `room:<slug>` (slug `[a-z0-9-]{1,40}`). */
export const load: PageLoad = ({ params }) => {
	if (!isSlug(params.slug)) error(404, 'No such room: a room name uses a–z, 0–9 and dashes (up to 40).');
	return { slug: params.slug };
};
