// RFC 9457 problem details: the one shape of every error answer (`application/problem+json`), and the
// response declarations a route adds for the refusals that apply to it, so the OpenAPI document lists them.
import { z } from 'zod';

export const FieldError = z.object({
  field: z.string().describe('Where the problem is, e.g. `body.0.phone` or `querystring.cursor`'),
  message: z.string(),
});
export type FieldError = z.infer<typeof FieldError>;

export const Problem = z
  .object({
    type: z.string().describe('`about:blank`: the status code says what kind of problem it is'),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional().describe('What went wrong, in words'),
    instance: z.string().optional().describe('The request path'),
    errors: z.array(FieldError).optional().describe('Validation errors, one per field'),
  })
  .meta({ id: 'Problem', description: 'An RFC 9457 problem' });
export type Problem = z.infer<typeof Problem>;

export const PROBLEM_STATUSES = {
  400: 'The request is invalid: a field, parameter or body failed validation',
  401: 'The bearer token (or the UI session) is missing, unknown, revoked or expired',
  403: 'The token or session lacks the role this operation needs, or a session request lacks its X-CSRF-Token',
  404: 'No such resource',
  409: 'The ticket lifecycle refuses this action in the current state, or the change conflicts with stored data',
  413: 'The body is larger than this operation takes',
  415: 'The body is not of the media type this operation takes',
  429: 'Too many requests: try again after Retry-After seconds',
} as const;
export type ProblemStatus = keyof typeof PROBLEM_STATUSES;

/** `schema.response` entries for the problems a route can answer with, served as application/problem+json. */
export function problemResponses<S extends ProblemStatus>(...statuses: S[]) {
  const out = {} as Record<S, { description: string; content: { 'application/problem+json': { schema: typeof Problem } } }>;
  for (const s of statuses) out[s] = { description: PROBLEM_STATUSES[s], content: { 'application/problem+json': { schema: Problem } } };
  return out;
}
