export { createLogger, createRuntime, REDACT } from './runtime.js';
export type { Runtime } from './runtime.js';
