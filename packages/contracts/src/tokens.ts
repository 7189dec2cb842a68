// API tokens (SPEC §7): roles, the body an admin posts, and the reply that shows the token once.
import { z } from 'zod';

export const API_ROLES = ['admin', 'agent', 'ingest'] as const;
export type ApiRole = (typeof API_ROLES)[number];
export const TokenBody = z.object({
  name: z.string().min(1).max(200),
  role: z.enum(API_ROLES),
  expiresAt: z.iso.datetime({ offset: true }).optional().describe('when the token stops working (RFC 3339, in the future); none: it works until revoked'),
});
export type TokenBody = z.infer<typeof TokenBody>;

export const CreatedToken = z
  .object({
    id: z.string(),
    name: z.string(),
    role: z.enum(API_ROLES),
    token: z.string().describe('Shown this once: only its hash is stored'),
    expiresAt: z.string().nullable(),
  })
  .meta({ id: 'CreatedToken' });
export type CreatedToken = z.infer<typeof CreatedToken>;

/** A token as an admin sees it in the list: never the token itself. */
export const TokenInfo = z
  .object({
    id: z.string(),
    name: z.string(),
    role: z.enum(API_ROLES),
    createdAt: z.string(),
    createdBy: z.string().nullable().describe('who created it; null for the bootstrap admin token'),
    lastUsedAt: z.string().nullable().describe('updated at most once a minute'),
    expiresAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
    active: z.boolean().describe('neither revoked nor expired'),
  })
  .meta({ id: 'TokenInfo' });
export type TokenInfo = z.infer<typeof TokenInfo>;
export const TokenList = z.object({ items: z.array(TokenInfo) }).meta({ id: 'TokenList' });
export type TokenList = z.infer<typeof TokenList>;
