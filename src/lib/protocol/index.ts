export * from './reasons.js';
export * from './events.js';
export * from './message.js';
export * from './schemas.js';
