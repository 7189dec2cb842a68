// The ID token an OIDC session keeps for signing out at the provider (OIDC_SIGN_OUT_AT_PROVIDER): handed
// back once by the sign-out and cleared; cleared too for sessions that ended by a timeout, when the next
// session starts. Both engines.
import t from 'tap';
import { createUiSession, endUiSession } from './sessions.js';
import { ENGINES, openTestDb, storedRows } from './testing.js';

const NOW = new Date('2026-12-01T09:00:00Z');
const LIMITS = { idleSeconds: 1800, maxSeconds: 43_200 };
const minutesAfter = (m: number) => new Date(NOW.getTime() + m * 60_000);
const person = (email: string, idToken: string | null) => ({ method: 'oidc' as const, role: 'agent' as const, subject: email, email, name: email, actor: `agent:${email}`, apiTokenId: null, idToken });

for (const engine of ENGINES) {
  t.test(engine, async (t) => {
    const h = await openTestDb(engine, process.env);
    t.teardown(() => h.close());
    const { db } = h;
    const idTokenOf = async (id: string) => (await storedRows(db, 'ui_sessions', { id }))[0]?.id_token;

    t.test('sign-out hands back the ID token once and clears it', async (t) => {
      const s = await createUiSession(db, person('alice@example.com', 'header.alice.signature'), LIMITS, NOW);
      t.equal(await idTokenOf(s.id), 'header.alice.signature', 'kept while the session lives');
      t.same(await endUiSession(db, s.id, 'agent:alice@example.com', minutesAfter(5)), { idToken: 'header.alice.signature' });
      t.equal(await idTokenOf(s.id), null, 'cleared at sign-out');
      t.same(await endUiSession(db, s.id, 'agent:alice@example.com', minutesAfter(6)), { idToken: null }, 'a second sign-out gets nothing');
      const audits = await storedRows(db, 'audit_events', { subject: `session:${s.id}` });
      t.equal(audits.filter((a) => a.type === 'session.ended').length, 1, 'ended once on the record');
    });

    t.test('a session that ended by its idle timeout loses its ID token when the next session starts', async (t) => {
      const idle = await createUiSession(db, person('bob@example.com', 'header.bob.signature'), LIMITS, NOW);
      const live = await createUiSession(db, person('carol@example.com', 'header.carol.signature'), LIMITS, minutesAfter(20));
      await createUiSession(db, person('dave@example.com', null), LIMITS, minutesAfter(31));
      t.equal(await idTokenOf(idle.id), null, 'idle for 31 minutes (SESSION_IDLE_SECONDS 1800): cleared');
      t.equal(await idTokenOf(live.id), 'header.carol.signature', 'a session still within its limits keeps it');
    });
  });
}
