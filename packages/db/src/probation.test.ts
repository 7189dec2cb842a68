import type { Verdict } from '@abuse-desk/contracts';
import { spamBurst } from '@abuse-desk/testkit';
import t from 'tap';
import { countVerdicts } from './counting.js';
import { ENGINES, openTestDb } from './testing.js';
import { upsertTenant } from './tenants.js';

const T0 = new Date('2026-11-22T10:00:30.000Z'); // the reinstatement
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);

for (const engine of ENGINES) {
  t.test(`${engine}: probation`, async (t) => {
    const h = await openTestDb(engine, process.env);
    t.teardown(() => h.close());
    const onProbation = async (id: string, until: Date) => {
      await upsertTenant(h.db, id, { name: id }, T0);
      await h.db.updateTable('tenants').set({ probation_since: T0, probation_until: until }).where('id', '=', id).execute();
    };
    const count = (vs: Verdict[], now: Date) => h.db.transaction().execute((trx) => countVerdicts(trx, vs, { now, resolutionTimeoutSeconds: 3600, actor: 'test', destinations: ['kafka', 'webhook'] as const, dedupeWindowSeconds: 3600 }));

    t.test('half the threshold trips a repeat ticket that is suspended at once', async (t) => {
      await onProbation('rep', at(60));
      const r = await count(spamBurst('rep', 25, { at: at(2) }), at(3));
      t.equal(r.opened.length, 1);
      const tk = await h.db.selectFrom('tickets').selectAll().where('tenant_id', '=', 'rep').executeTakeFirstOrThrow();
      t.match(tk, { severity: 'repeat', state: 'suspended', outbound_disabled: true });
    });

    t.test('verdicts from before the reinstatement do not count, even inside the window', async (t) => {
      await onProbation('restart', at(60));
      t.same((await count(spamBurst('restart', 40, { at: at(-2) }), at(3))).opened, [], 'old verdicts alone');
      t.same((await count(spamBurst('restart', 20, { at: at(2) }), at(3))).opened, [], '20 new ones: below the halved threshold of 25 although 60 sit in the window');
    });

    t.test('once probation has ended mid-window, the normal thresholds apply again', async (t) => {
      await onProbation('ended', at(4));
      t.same((await count(spamBurst('ended', 30, { at: at(3) }), at(5))).opened, [], '30 spam: enough on probation, not after it');
      const r = await count(spamBurst('ended', 20, { at: at(5) }), at(6));
      t.equal(r.opened.length, 1, '50 spam in the window, counted from before the reinstatement too, trip the normal rule');
      const tk = await h.db.selectFrom('tickets').selectAll().where('tenant_id', '=', 'ended').executeTakeFirstOrThrow();
      t.match(tk, { severity: 'normal', state: 'awaiting_response', outbound_disabled: false }, 'a normal ticket (no contacts: straight to awaiting a response), not suspended');
    });
  });
}
