// Sign in with an API token: checked against GET /v1/tickets?limit=1 before it is kept (sessionStorage only).
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, api, problemText, setToken } from '../api';

export function SignIn({ onSignedIn, notice }: { onSignedIn: () => void; notice: string | null }) {
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
      await api('/v1/tickets?limit=1', { token: value });
      setToken(value);
      onSignedIn();
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) setError('That token is not valid');
      else if (err instanceof ApiError && err.status === 403) setError('That token cannot read tickets');
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
