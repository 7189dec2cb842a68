export { buildApp, buildOpsApp, redactUrl } from './app.js';
export type { ApiDeps, ReadinessCheck } from './app.js';
