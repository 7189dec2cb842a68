// Single sign-on through OpenID Connect (issue 15), with openid-client: the authorization code flow with
// PKCE, state and nonce. The provider's metadata is fetched on the first sign-in and kept; a provider that
// cannot be reached then fails that sign-in with a page saying so, and the next sign-in tries again.
import type { Config } from '@abuse-desk/config';
import { personFromClaims, roleFromClaims } from '@abuse-desk/domain';
import type { Person, PersonRole } from '@abuse-desk/domain';
import * as client from 'openid-client';

type OidcConfig = NonNullable<Config['oidc']>;

export interface SignInStart {
  url: URL;
  state: string;
  codeVerifier: string;
  nonce: string;
}

export interface SignedInPerson extends Person {
  role: PersonRole | null;
  /** The ID token as issued: the id_token_hint when signing out at the provider. */
  idToken: string;
}

/** The path the provider sends people back to; register `PUBLIC_BASE_URL` + this at the provider. */
export const CALLBACK_PATH = '/auth/oidc/callback';

const loopback = (u: URL) => ['localhost', '127.0.0.1', '[::1]'].includes(u.hostname);

export class OidcSignIn {
  #configuration: Promise<client.Configuration> | null = null;
  readonly redirectUri: string;

  constructor(
    readonly settings: OidcConfig,
    publicBaseUrl: string,
  ) {
    this.redirectUri = publicBaseUrl + CALLBACK_PATH;
  }

  #discover(): Promise<client.Configuration> {
    if (!this.#configuration) {
      const issuer = new URL(this.settings.issuerUrl);
      this.#configuration = client
        .discovery(issuer, this.settings.clientId, this.settings.clientSecret, undefined, {
          timeout: 10,
          // http only for a provider on this machine (config refuses any other http issuer): tests, demos.
          execute: issuer.protocol === 'http:' && loopback(issuer) ? [client.allowInsecureRequests] : [],
        })
        .catch((err: unknown) => {
          this.#configuration = null;
          throw err;
        });
    }
    return this.#configuration;
  }

  /** Where to send the browser, and what to keep until it comes back. */
  async start(): Promise<SignInStart> {
    const configuration = await this.#discover();
    const codeVerifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(configuration, {
      redirect_uri: this.redirectUri,
      scope: this.settings.scopes.join(' '),
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    return { url, state, codeVerifier, nonce };
  }

  /**
   * Redeems the callback's code (checking state, nonce, PKCE and the ID token's signature) and reads who
   * signed in and which role their claims grant; the role claim may come in the ID token or from userinfo.
   */
  async finish(callbackUrl: URL, checks: { state: string; codeVerifier: string; nonce: string }): Promise<SignedInPerson> {
    const configuration = await this.#discover();
    const tokens = await client.authorizationCodeGrant(configuration, callbackUrl, {
      pkceCodeVerifier: checks.codeVerifier,
      expectedState: checks.state,
      expectedNonce: checks.nonce,
      idTokenExpected: true,
    });
    const idClaims = tokens.claims() as Record<string, unknown>;
    let userinfo: Record<string, unknown> = {};
    if (configuration.serverMetadata().userinfo_endpoint) {
      userinfo = (await client.fetchUserInfo(configuration, tokens.access_token, String(idClaims.sub))) as Record<string, unknown>;
    }
    const claims = { ...idClaims, ...userinfo };
    return { ...personFromClaims(idClaims, userinfo), role: roleFromClaims(claims, this.settings.roleClaim, this.settings.roleMap), idToken: tokens.id_token! };
  }

  /**
   * Where to send a browser that signed out so the provider ends its session too (RP-initiated logout):
   * the provider's end_session_endpoint with the ID token as hint, coming back to `returnTo`, or null when
   * the provider has no such endpoint.
   */
  async signOutUrl(idToken: string | null, returnTo: string, state: string): Promise<URL | null> {
    const configuration = await this.#discover();
    if (!configuration.serverMetadata().end_session_endpoint) return null;
    return client.buildEndSessionUrl(configuration, { ...(idToken ? { id_token_hint: idToken } : {}), post_logout_redirect_uri: returnTo, state });
  }
}
