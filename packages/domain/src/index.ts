export * from './policy.js';
export * from './ticket-state.js';
export * from './walk.js';
export * from './call.js';
