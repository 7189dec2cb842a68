// A real OpenID Connect provider for the sign-in tests (TESTING.md): oidc-provider, the certified provider
// library, with one confidential client and a few people configured in code. Its development login and
// consent pages (any password) stand in for a company's sign-in page.
import type { Server } from 'node:http';
import Provider from 'oidc-provider';

export interface Person {
  email: string;
  name: string;
  groups: string[];
}

export interface OidcProvider {
  issuer: string;
  close(): Promise<void>;
}

/** The client abuse-desk is registered as (OIDC_CLIENT_ID, OIDC_CLIENT_SECRET). */
export const CLIENT_ID = 'abuse-desk';
export const CLIENT_SECRET = 'oidc-client-secret-for-tests-0123456789';

/**
 * Starts the provider on 127.0.0.1:`port`; `redirectUris` are the abuse-desk callbacks it accepts,
 * `postLogoutRedirectUris` where its sign-out (RP-initiated logout) may send the browser back to.
 */
export async function startOidcProvider(o: { port: number; redirectUris: string[]; postLogoutRedirectUris?: string[]; people: Record<string, Person> }): Promise<OidcProvider> {
  const issuer = `http://127.0.0.1:${o.port}`;
  const provider = new Provider(issuer, {
    clients: [{ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uris: o.redirectUris, post_logout_redirect_uris: o.postLogoutRedirectUris ?? [], grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_post' }],
    // Groups are released for their own scope, as Okta and Keycloak do it; abuse-desk asks for it in OIDC_SCOPES.
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
    pkce: { required: () => true },
    cookies: { keys: ['cookie-key-for-tests-only-0123456789'] },
    async findAccount(_ctx, id) {
      const person = o.people[id];
      if (!person) return undefined;
      return { accountId: id, claims: async () => ({ sub: id, email: person.email, email_verified: true, name: person.name, groups: person.groups }) };
    },
  });
  // The development interactions log a warning per start; they are what a test needs.
  provider.on('server_error', (_ctx, err) => console.error('oidc-provider server_error', err));
  const server: Server = provider.listen(o.port, '127.0.0.1') as unknown as Server;
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  return {
    issuer,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
