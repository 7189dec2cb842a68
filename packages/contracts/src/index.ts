// zod schemas shared by the API, the Kafka consumer, the workers and the UI: the shapes of SPEC §4–§9,
// the bodies the API accepts and the replies it gives, one file per resource.
// Validation happens at the edges with these schemas and nowhere else.
export * from './ids.js';
export * from './problems.js';
export * from './verdicts.js';
export * from './policy.js';
export * from './tenants.js';
export * from './tickets.js';
export * from './tokens.js';
export * from './enforcement.js';
export * from './sessions.js';
export * from './complaints.js';
