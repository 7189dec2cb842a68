// Sign-in: through the identity provider where one is configured, else with an API token that the api
// exchanges for a session cookie (the token is not kept in the browser).
import type { SessionInfo } from '@abuse-desk/contracts';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, problemText, signInWithToken } from '../api';

type SignedOut = Extract<SessionInfo, { signedIn: false }>;

export function SignIn({ session, onSignedIn, notice }: { session: SignedOut; onSignedIn: (s: SessionInfo) => void; notice: string | null }) {
  if (session.method === 'oidc' && session.signInUrl) {
    const href = `${session.signInUrl}?returnTo=${encodeURIComponent(location.pathname)}`;
    return (
      <main class="signin" id="main">
        <h1>abuse-desk</h1>
        <p class="muted">Outbound-abuse tickets. Sign in with your company account.</p>
        {notice ? <p class="notice">{notice}</p> : null}
        <p class="card">
          <a class="button primary" href={href}>
            Sign in with single sign-on
          </a>
        </p>
      </main>
    );
  }
  return <TokenSignIn onSignedIn={onSignedIn} notice={notice} />;
}

function TokenSignIn({ onSignedIn, notice }: { onSignedIn: (s: SessionInfo) => void; notice: string | null }) {
  const [token, setValue] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);

  const submit = async (e: Event) => {
    e.preventDefault();
    const value = token.trim();
    if (!value) {
      setError('Enter an API token');
      input.current?.focus();
      return;
    }
    setBusy(true);
    setError(null);
    try {
      onSignedIn(await signInWithToken(value));
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) setError('That token is not valid');
      else if (err instanceof ApiError && err.status === 403) setError(err.detail);
      else setError(problemText(err));
      input.current?.focus();
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="signin" id="main">
      <h1>abuse-desk</h1>
      <p class="muted">Outbound-abuse tickets. Sign in with an agent or admin API token.</p>
      {notice ? <p class="notice">{notice}</p> : null}
      <form onSubmit={submit} class="card" noValidate>
        <div class="field">
          <label for="token">API token</label>
          <input
            ref={input}
            id="token"
            type="password"
            autoComplete="current-password"
            value={token}
            onInput={(e) => setValue((e.target as HTMLInputElement).value)}
            aria-invalid={error ? 'true' : undefined}
            aria-describedby={error ? 'token-error' : undefined}
          />
        </div>
        {error ? (
          <p class="alert" role="alert" id="token-error">
            {error}
          </p>
        ) : null}
        <button type="submit" class="primary" disabled={busy}>
          Sign in
        </button>
      </form>
    </main>
  );
}
