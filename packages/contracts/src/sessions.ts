// The ticket UI's sign-in (issue 15): the session a browser holds behind an HttpOnly cookie, and the
// token sign-in used where no identity provider is configured.
import { z } from 'zod';

export const SIGN_IN_METHODS = ['oidc', 'token'] as const;

export const SessionInfo = z
  .discriminatedUnion('signedIn', [
    z.object({
      signedIn: z.literal(false),
      method: z.enum(SIGN_IN_METHODS).describe('how this installation signs people in: its identity provider (oidc) or an API token'),
      signInUrl: z.string().nullable().describe('where the browser goes to sign in with the identity provider (oidc only)'),
    }),
    z.object({
      signedIn: z.literal(true),
      method: z.enum(SIGN_IN_METHODS),
      name: z.string(),
      email: z.string().nullable(),
      role: z.enum(['admin', 'agent']),
      csrfToken: z.string().describe('send as X-CSRF-Token on every request that changes something'),
      idleExpiresAt: z.string(),
      expiresAt: z.string(),
    }),
  ])
  .meta({ id: 'SessionInfo' });
export type SessionInfo = z.infer<typeof SessionInfo>;

export const TokenSignInBody = z.object({ token: z.string().min(1).max(512) }).meta({ id: 'TokenSignInBody' });
export type TokenSignInBody = z.infer<typeof TokenSignInBody>;

/** The answer to a sign-out that should end the provider's session too (OIDC_SIGN_OUT_AT_PROVIDER). */
export const SignOutAnswer = z
  .object({
    signOutUrl: z.string().describe("the identity provider's end-session URL: send the browser there so the provider signs the person out too, then back to /ui/"),
  })
  .meta({ id: 'SignOutAnswer' });
export type SignOutAnswer = z.infer<typeof SignOutAnswer>;
