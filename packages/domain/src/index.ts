export * from './policy.js';
export * from './ticket-state.js';
export * from './walk.js';
export * from './call.js';
export * from './ticket.js';
export * from './engine.js';
export * from './windows.js';
