import t from 'tap';
import { countVerdicts } from './counting.js';
import { ENGINES, openTestDb } from './testing.js';
import { upsertTenant } from './tenants.js';

const T0 = new Date('2026-11-22T10:00:30.000Z'); // the reinstatement
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);
const spam = (tenantId: string, prefix: string, n: number, when: Date) =>
  Array.from({ length: n }, (_, i) => ({ tenantId, messageId: `${prefix}-${i}`, verdict: 'spam' as const, occurredAt: when.toISOString(), recipients: 1 }));

for (const engine of ENGINES) {
  t.test(`${engine}: probation`, async (t) => {
    const h = await openTestDb(engine, process.env);
    t.teardown(() => h.close());
    const onProbation = async (id: string, until: Date) => {
      await upsertTenant(h.db, id, { name: id }, T0);
      await h.db.updateTable('tenants').set({ probation_since: T0, probation_until: until }).where('id', '=', id).execute();
    };
    const count = (vs: ReturnType<typeof spam>, now: Date) => h.db.transaction().execute((trx) => countVerdicts(trx, vs, { now, resolutionTimeoutSeconds: 3600, actor: 'test', destinations: ['kafka', 'webhook'] as const }));

    t.test('half the threshold trips a repeat ticket that is suspended at once', async (t) => {
      await onProbation('rep', at(60));
      const r = await count(spam('rep', 'a', 25, at(2)), at(3));
      t.equal(r.opened.length, 1);
      const tk = await h.db.selectFrom('tickets').selectAll().where('tenant_id', '=', 'rep').executeTakeFirstOrThrow();
      t.match(tk, { severity: 'repeat', state: 'suspended', outbound_disabled: true });
    });

    t.test('verdicts from before the reinstatement do not count, even inside the window', async (t) => {
      await onProbation('restart', at(60));
      t.same((await count(spam('restart', 'old', 40, at(-2)), at(3))).opened, [], 'old verdicts alone');
      t.same((await count(spam('restart', 'new', 20, at(2)), at(3))).opened, [], '20 new ones: below the halved threshold of 25 although 60 sit in the window');
    });

    t.test('once probation has ended mid-window, the normal thresholds apply again', async (t) => {
      await onProbation('ended', at(4));
      t.same((await count(spam('ended', 'a', 30, at(3)), at(5))).opened, [], '30 spam: enough on probation, not after it');
      const r = await count(spam('ended', 'b', 20, at(5)), at(6));
      t.equal(r.opened.length, 1, '50 spam in the window, counted from before the reinstatement too, trip the normal rule');
      const tk = await h.db.selectFrom('tickets').selectAll().where('tenant_id', '=', 'ended').executeTakeFirstOrThrow();
      t.match(tk, { severity: 'normal', state: 'awaiting_response', outbound_disabled: false }, 'a normal ticket (no contacts: straight to awaiting a response), not suspended');
    });
  });
}
