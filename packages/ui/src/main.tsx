// The ticket UI for support agents: sign-in, the queue, tickets, tenants and dead letters, on the public API only.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { clearToken, getToken, setUnauthorizedHandler } from './api';
import { DeadLetters } from './pages/DeadLetters';
import { Queue, forgetQueueFilters } from './pages/Queue';
import { SignIn } from './pages/SignIn';
import { TenantView } from './pages/Tenant';
import { TicketView } from './pages/Ticket';
import { BASE, parseRoute, usePathname } from './router';
import './styles.css';

function App() {
  const [signedIn, setSignedIn] = useState(() => !!getToken());
  const [notice, setNotice] = useState<string | null>(null);
  const path = usePathname();
  const route = parseRoute(path);

  useEffect(() => {
    setUnauthorizedHandler(() => {
      clearToken();
      forgetQueueFilters();
      setNotice('Your token is no longer accepted. Sign in again.');
      setSignedIn(false);
    });
  }, []);

  useEffect(() => {
    const titles: Record<string, string> = { queue: 'Tickets', 'dead-letters': 'Dead letters', 'not-found': 'Not found' };
    const what = route.page === 'ticket' ? route.number : route.page === 'tenant' ? `Tenant ${route.tenantId}` : titles[route.page];
    document.title = signedIn ? `${what} · abuse-desk` : 'Sign in · abuse-desk';
  }, [path, signedIn]);

  if (!signedIn) {
    return (
      <SignIn
        notice={notice}
        onSignedIn={() => {
          setNotice(null);
          setSignedIn(true);
        }}
      />
    );
  }

  const signOut = () => {
    clearToken();
    forgetQueueFilters();
    setNotice('Signed out.');
    setSignedIn(false);
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
          <a href={`${BASE}dead-letters`} aria-current={route.page === 'dead-letters' ? 'page' : undefined}>
            Dead letters
          </a>
        </nav>
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
