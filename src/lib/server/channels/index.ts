/**
 * Phoenix Channels V2 server on `ws`: `createChannelServer(options)` and the
 * types an app needs to write routes and to plug in another pub/sub.
 */
export { createChannelServer } from './channel-server.js';
export { createInProcessPubSub } from './in-process-pubsub.js';
export { CLOSE_CODES, PHX_EVENTS, PHX_REASONS, PHOENIX_TOPIC } from './phoenix.js';
export type * from './types.js';
