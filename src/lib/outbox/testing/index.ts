/**
 * The kit's test helpers, part of the public package: memory storage, a fake
 * clock, a seeded random, and an in-memory transport pair over a faulty network.
 */
export * from './seeded-random.js';
export * from './fake-clock.js';
export * from './memory-storage.js';
export * from './memory-network.js';
export * from './memory-server.js';
export * from './memory-client.js';
export * from './memory-transport.js';
