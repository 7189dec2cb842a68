// The ticket UI for support agents: sign-in, the queue, tickets, tenants and dead letters, on the public API only.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { SessionInfo } from '@abuse-desk/contracts';
import { currentSession, problemText, setUnauthorizedHandler, signOut as endSession } from './api';
import { Complaints } from './pages/Complaints';
import { DeadLetters } from './pages/DeadLetters';
import { Queue, forgetQueueFilters } from './pages/Queue';
import { SignIn } from './pages/SignIn';
import { TenantView } from './pages/Tenant';
import { TicketView } from './pages/Ticket';
import { BASE, parseRoute, usePathname } from './router';
import './styles.css';

function App() {
  // null while the first GET /v1/session is on its way.
  const [session, setSession] = useState<SessionInfo | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const path = usePathname();
  const route = parseRoute(path);
  const signedIn = session?.signedIn === true;

  const ask = (then?: string) =>
    currentSession()
      .then((s) => {
        setSession(s);
        if (then !== undefined) setNotice(then);
      })
      .catch((err) => {
        setSession({ signedIn: false, method: 'token', signInUrl: null });
        setNotice(problemText(err));
      });

  useEffect(() => {
    // Back from the identity provider's sign-out (OIDC_SIGN_OUT_AT_PROVIDER): say so, and drop the state from the address.
    const back = new URLSearchParams(window.location.search).get('state') === 'signed-out';
    if (back) window.history.replaceState(null, '', window.location.pathname);
    void ask(back ? 'Signed out. Your identity provider was asked to sign you out too.' : undefined);
    setUnauthorizedHandler((detail) => {
      forgetQueueFilters();
      // Ask again: the session ended (idle, time limit, signed out in another tab); say why on the sign-in page.
      void ask(`You were signed out: ${detail}.`);
    });
  }, []);

  useEffect(() => {
    const titles: Record<string, string> = { queue: 'Tickets', 'dead-letters': 'Dead letters', complaints: 'Complaint reports', 'not-found': 'Not found' };
    const what = route.page === 'ticket' ? route.number : route.page === 'tenant' ? `Tenant ${route.tenantId}` : titles[route.page];
    document.title = signedIn ? `${what} · abuse-desk` : 'Sign in · abuse-desk';
  }, [path, signedIn]);

  if (session === null) return <main id="main" aria-busy="true" class="signin" />;

  if (!session.signedIn) {
    return (
      <SignIn
        session={session}
        notice={notice}
        onSignedIn={(s) => {
          setNotice(null);
          setSession(s);
        }}
      />
    );
  }

  const signOut = async () => {
    forgetQueueFilters();
    try {
      const providerSignOut = await endSession();
      // The provider ends its own session too, then sends the browser back to /ui/.
      if (providerSignOut) return window.location.assign(providerSignOut);
      await ask('Signed out.');
    } catch (err) {
      setNotice(problemText(err));
    }
  };

  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href={BASE}>
          abuse-desk
        </a>
        <nav aria-label="Main">
          <a href={BASE} aria-current={route.page === 'queue' ? 'page' : undefined}>
            Tickets
          </a>
          <a href={`${BASE}complaints`} aria-current={route.page === 'complaints' ? 'page' : undefined}>
            Complaints
          </a>
          <a href={`${BASE}dead-letters`} aria-current={route.page === 'dead-letters' ? 'page' : undefined}>
            Dead letters
          </a>
        </nav>
        <span class="who" data-testid="signed-in-as">
          {session.email ?? session.name} ({session.role})
        </span>
        <button type="button" class="signout" onClick={signOut}>
          Sign out
        </button>
      </header>
      {route.page === 'queue' ? (
        <Queue />
      ) : route.page === 'ticket' ? (
        <TicketView key={route.number} number={route.number} />
      ) : route.page === 'tenant' ? (
        <TenantView key={route.tenantId} tenantId={route.tenantId} />
      ) : route.page === 'dead-letters' ? (
        <DeadLetters />
      ) : route.page === 'complaints' ? (
        <Complaints />
      ) : (
        <main id="main">
          <h1>Page not found</h1>
          <p>
            <a href={BASE}>Back to the tickets</a>
          </p>
        </main>
      )}
    </>
  );
}

render(<App />, document.getElementById('app')!);
