// Who may use the ticket UI and for how long (issue 15): roles from claims, the actor of a person's
// actions, session timeouts and where a sign-in may return to.
import t from 'tap';
import { personActor, personFromClaims, roleFromClaims, safeReturnPath, sessionStanding } from './sign-in.js';

const MAP = [
  { value: 'abuse-desk-admins', role: 'admin' as const },
  { value: 'abuse-desk-agents', role: 'agent' as const },
];

t.test('the role comes from a list claim, a single value or a nested claim; the highest mapped role wins', async (t) => {
  t.equal(roleFromClaims({ groups: ['staff', 'abuse-desk-agents'] }, 'groups', MAP), 'agent');
  t.equal(roleFromClaims({ groups: ['abuse-desk-agents', 'abuse-desk-admins'] }, 'groups', MAP), 'admin');
  t.equal(roleFromClaims({ role: 'abuse-desk-admins' }, 'role', MAP), 'admin');
  t.equal(roleFromClaims({ realm_access: { roles: ['abuse-desk-agents'] } }, 'realm_access.roles', MAP), 'agent');
  t.equal(roleFromClaims({ 'https://example.com/groups': ['abuse-desk-agents'] }, 'https://example.com/groups', MAP), 'agent', 'a URL-named claim is read whole, not split at dots');
});

t.test('a person without a mapped value, or without the claim, gets no role', async (t) => {
  t.equal(roleFromClaims({ groups: ['staff'] }, 'groups', MAP), null);
  t.equal(roleFromClaims({}, 'groups', MAP), null);
  t.equal(roleFromClaims({ groups: [42, null] }, 'groups', MAP), null);
  t.equal(roleFromClaims({ groups: 'abuse-desk-agentsX' }, 'groups', MAP), null, 'values match exactly');
});

t.test('a person is named by email and subject; userinfo wins over the ID token', async (t) => {
  const p = personFromClaims({ sub: 'u-1', email: 'old@example.com' }, { email: 'alice@example.com', name: 'Alice' });
  t.same(p, { subject: 'u-1', email: 'alice@example.com', name: 'Alice' });
  t.equal(personActor('agent', p), 'agent:alice@example.com (sub u-1)');
  t.equal(personActor('admin', personFromClaims({ sub: 'u-2', preferred_username: 'bob' })), 'admin:bob (sub u-2)');
  t.equal(personActor('agent', personFromClaims({ sub: 'u-3', email: '  ' })), 'agent:u-3 (sub u-3)');
});

t.test('a session ends after the idle time without use, and at its time limit however busy', async (t) => {
  const limits = { idleSeconds: 600, maxSeconds: 3600 };
  const at = (s: number) => new Date(Date.UTC(2026, 10, 30, 12, 0, s));
  const createdAt = at(0);
  t.equal(sessionStanding({ createdAt, lastSeenAt: at(0) }, limits, at(599)), 'active');
  t.equal(sessionStanding({ createdAt, lastSeenAt: at(0) }, limits, at(600)), 'idle');
  t.equal(sessionStanding({ createdAt, lastSeenAt: at(3500) }, limits, at(3599)), 'active');
  t.equal(sessionStanding({ createdAt, lastSeenAt: at(3599) }, limits, at(3600)), 'expired');
});

t.test('a sign-in returns only to a page of the ticket UI', async (t) => {
  t.equal(safeReturnPath('/ui/tickets/ABU-000001'), '/ui/tickets/ABU-000001');
  t.equal(safeReturnPath('/ui'), '/ui');
  for (const bad of [undefined, '', 'https://evil.example/ui/', '//evil.example/ui/', '/uix', '/ui/\\evil', '/v1/tokens', '/ui/ x']) {
    t.equal(safeReturnPath(bad), '/ui/', `refuses ${bad}`);
  }
});
