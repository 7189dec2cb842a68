// API tokens (SPEC §7): roles, the body an admin posts, and the reply that shows the token once.
import { z } from 'zod';

export const API_ROLES = ['admin', 'agent', 'ingest'] as const;
export type ApiRole = (typeof API_ROLES)[number];
export const TokenBody = z.object({ name: z.string().min(1).max(200), role: z.enum(API_ROLES) });

export const CreatedToken = z
  .object({
    id: z.string(),
    name: z.string(),
    role: z.enum(API_ROLES),
    token: z.string().describe('Shown this once: only its hash is stored'),
  })
  .meta({ id: 'CreatedToken' });
export type CreatedToken = z.infer<typeof CreatedToken>;
