import t from 'tap';
import { countVerdicts, pruneDedupeKeys } from './counting.js';
import { ENGINES, openTestDb } from './testing.js';

for (const engine of ENGINES) {
  t.test(`${engine}: dedupe keys older than the retention are pruned, a slice at a time, and the counts stay`, async (t) => {
    const h = await openTestDb(engine, process.env);
    t.teardown(() => h.close());
    const at = (d: string) => new Date(d);
    const batch = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => ({ tenantId: 'keep', messageId: `${prefix}-${i}`, verdict: 'clean' as const, occurredAt: '2026-11-20T10:00:00Z', recipients: 1 }));
    const ctx = (now: string) => ({ now: at(now), resolutionTimeoutSeconds: 3600, actor: 'test', destinations: ['kafka', 'webhook'] as const });
    await h.db.transaction().execute((trx) => countVerdicts(trx, batch('old', 30), ctx('2026-11-01T00:00:00Z')));
    await h.db.transaction().execute((trx) => countVerdicts(trx, batch('new', 5), ctx('2026-11-20T00:00:00Z')));
    t.equal(await pruneDedupeKeys(h.db, at('2026-11-10T00:00:00Z'), 20), 20, 'one slice');
    t.equal(await pruneDedupeKeys(h.db, at('2026-11-10T00:00:00Z'), 20), 10, 'the rest');
    t.equal(await pruneDedupeKeys(h.db, at('2026-11-10T00:00:00Z'), 20), 0, 'nothing left to prune');
    const keys = await h.db.selectFrom('verdict_keys').select('message_id').orderBy('message_id').execute();
    t.same(keys.map((k) => k.message_id), ['new-0', 'new-1', 'new-2', 'new-3', 'new-4'], 'recent keys are kept');
    const total = await h.db.selectFrom('counts').select((eb) => eb.fn.sum<number>('clean').as('n')).executeTakeFirstOrThrow();
    t.equal(Number(total.n), 35, 'counts are not touched');
    const again = await h.db.transaction().execute((trx) => countVerdicts(trx, batch('new', 5), ctx('2026-11-20T00:01:00Z')));
    t.equal(again.duplicates, 5, 'a repeat within the retention is still ignored');
  });
}
