// Security headers on every page and answer (issue 15): a Content-Security-Policy without inline code or
// framing, nosniff, frame denial and no Referer — on the UI, the resolution page (whose URL carries its
// token), the API's JSON, its problems and the ops endpoints; and the pages hold no inline script or style.
import { issueResolutionToken } from '@abuse-desk/db';
import t from 'tap';
import { openTestApi, openTicket } from './test-app.js';

t.test('every HTML page and JSON answer carries the security headers; the pages have no inline code', async (t) => {
  const api = await openTestApi(t, 'pglite');
  const ticket = await openTicket(api, 'acme');
  const token = await issueResolutionToken(api.db, ticket.id, api.clock.now());
  const pages: [string, string | null, number][] = [
    ['/ui/', null, 200],
    [`/resolve/${token}`, null, 200],
    ['/resolve/not-a-token', null, 404],
    ['/docs', null, 200],
    ['/openapi.json', null, 200],
    ['/v1/tickets', 'agent', 200],
    ['/v1/tickets', null, 401],
    ['/v1/no-such-route', 'agent', 404],
    ['/healthz', null, 200],
    ['/metrics', null, 200],
    ['/resolve-assets/countdown.js', null, 200],
    ['/v1/session', null, 200],
    ['/ack/not-a-token', null, 404],
    ['/auth/oidc/login', null, 404],
    ['/auth/oidc/callback?code=x&state=y', null, 404],
  ];
  for (const [url, as, status] of pages) {
    const r = await api.request('GET', url, { as });
    t.equal(r.status, status, `${url}: ${status}`);
    const csp = String(r.headers['content-security-policy'] ?? '');
    t.match(csp, /default-src 'self'/, `${url}: CSP`);
    t.match(csp, /script-src 'self'(;|$)/, `${url}: scripts only from the site itself`);
    t.match(csp, /style-src 'self'(;|$)/, `${url}: styles only from the site itself`);
    t.match(csp, /frame-ancestors 'none'/, `${url}: never framed`);
    t.notMatch(csp, /unsafe-inline|unsafe-eval/, `${url}: no inline code allowed`);
    t.equal(r.headers['x-content-type-options'], 'nosniff', `${url}: nosniff`);
    t.equal(r.headers['x-frame-options'], 'DENY', `${url}: X-Frame-Options`);
    t.equal(r.headers['referrer-policy'], 'no-referrer', `${url}: no Referer`);
    if (/text\/html/.test(r.contentType)) {
      t.notMatch(r.text, /<script(?![^>]*\bsrc=)[^>]*>/, `${url}: no inline script`);
      t.notMatch(r.text, /<style|\sstyle="|\son[a-z]+="/i, `${url}: no inline style or event handler`);
    }
  }
  const page = await api.request('GET', `/resolve/${token}`, { as: null });
  t.match(page.text, '<link rel="stylesheet" href="/resolve-assets/page.css">');
  const css = await api.request('GET', '/resolve-assets/page.css', { as: null });
  t.match(css.contentType, /^text\/css/);
  t.match(css.text, 'font-family');
  t.equal((await api.request('GET', '/resolve-assets/other.js', { as: null })).status, 400, 'only the two files');
});
