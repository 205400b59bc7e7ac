/**
 * The engine's session: who is signed in and what this tab may do with
 * their queue, as one reducer over a discriminated union.
 *
 *   signedOut ──userSet(u)──> starting ──loaded──> leader | follower
 *                                  (leads: the queue just read is the truth)
 *   follower ──leadershipGained──> takingOver ──tookOver──> leader
 *   leader | takingOver ──leadershipLost──> follower
 *   any signed-in phase ──refused (server refused the session)──> refused
 *   refused ──userSet(same user: a fresh sign-in)──> takingOver | follower
 *   any ──userSet(other user)──> starting;  ──userSet(null)──> signedOut
 *   any ──closed──> closed (final)
 *
 * Only `leader` sends. `takingOver` reads the queue from storage before it
 * sends: a send confirmed while a slow read was running would otherwise come
 * back from that stale read and go out twice.
 */

/** The signed-in user, as the server names them. */
export interface SessionUser {
	id: string;
	name: string;
}

export type SessionState =
	| { phase: 'signedOut' }
	| { phase: 'starting'; user: SessionUser }
	| { phase: 'follower'; user: SessionUser }
	| { phase: 'takingOver'; user: SessionUser }
	| { phase: 'leader'; user: SessionUser }
	| { phase: 'refused'; user: SessionUser; leads: boolean }
	| { phase: 'closed' };

export type SessionEvent =
	| { type: 'userSet'; user: SessionUser | null; leads: boolean }
	| { type: 'loaded'; leads: boolean }
	| { type: 'leadershipGained' }
	| { type: 'leadershipLost' }
	| { type: 'tookOver' }
	| { type: 'refused' }
	| { type: 'closed' };

export const SIGNED_OUT: SessionState = Object.freeze({ phase: 'signedOut' });

/** The user of a session, or null (signed out, closed). */
export function sessionUser(state: SessionState): SessionUser | null {
	return 'user' in state ? state.user : null;
}

/**
 * The next session state; returns `state` itself when nothing changes.
 *
 * @example
 * let s = reduceSession(SIGNED_OUT, { type: 'userSet', user: ann, leads: true }); // starting
 * s = reduceSession(s, { type: 'loaded', leads: true });                          // leader
 */
export function reduceSession(state: SessionState, event: SessionEvent): SessionState {
	if (state.phase === 'closed') return state;
	switch (event.type) {
		case 'closed':
			return { phase: 'closed' };
		case 'userSet': {
			if (event.user === null) return state.phase === 'signedOut' ? state : SIGNED_OUT;
			const held = sessionUser(state);
			if (held?.id !== event.user.id) return { phase: 'starting', user: event.user };
			if (state.phase === 'refused') return { phase: event.leads ? 'takingOver' : 'follower', user: event.user };
			return held.name === event.user.name ? state : ({ ...state, user: event.user } as SessionState);
		}
		case 'loaded':
			return state.phase === 'starting' ? { phase: event.leads ? 'leader' : 'follower', user: state.user } : state;
		case 'leadershipGained':
			if (state.phase === 'follower') return { phase: 'takingOver', user: state.user };
			if (state.phase === 'refused' && !state.leads) return { ...state, leads: true };
			return state;
		case 'leadershipLost':
			if (state.phase === 'leader' || state.phase === 'takingOver') return { phase: 'follower', user: state.user };
			if (state.phase === 'refused' && state.leads) return { ...state, leads: false };
			return state;
		case 'tookOver':
			return state.phase === 'takingOver' ? { phase: 'leader', user: state.user } : state;
		case 'refused':
			if (state.phase === 'signedOut' || state.phase === 'refused') return state;
			return { phase: 'refused', user: state.user, leads: state.phase === 'leader' || state.phase === 'takingOver' };
		default:
			throw new TypeError(`unknown session event ${(event as { type: unknown }).type}`);
	}
}

/**
 * Whether another tab's `sending` mark for an item is taken into this tab's
 * copy. Only the leader's own pushes settle an item, so a leader (or a tab
 * taking over) never takes one: the mark comes from a tab that no longer
 * leads (a frozen leader resumed), and taking it would hold the item with
 * nothing in flight. Nor does any tab take a mark for an item it no longer
 * holds (`holdsItem`): it was settled since, and the late mark would bring it back.
 */
export function takesOthersMark(state: SessionState, holdsItem: boolean): boolean {
	return state.phase !== 'leader' && state.phase !== 'takingOver' && holdsItem;
}
