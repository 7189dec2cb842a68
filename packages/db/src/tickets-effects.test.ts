// What a decision leaves behind besides the ticket (SPEC §5, §9): enforcement deliveries only for the
// destinations this deployment has, and probation after any resolve — never after a dismissal.
import t from 'tap';
import { ENGINES, openTestDb } from './testing.js';
import { NOW, command, minutesAfter, openTicketFor, outboxOf } from './tickets.fixtures.js';
import { messageView } from './views.js';

for (const engine of ENGINES) {
  t.test(engine, async (t) => {
    const h = await openTestDb(engine, process.env);
    t.teardown(() => h.close());
    const { db } = h;
    const deliveriesOf = async (ticketId: string) => {
      const events = await outboxOf(db, ticketId);
      if (events.length === 0) return [];
      const rows = await db.selectFrom('outbox_deliveries').select(['event_id', 'destination', 'status']).where('event_id', 'in', events.map((e) => e.id)).orderBy('destination').execute();
      return rows.map((r) => r.destination);
    };
    const tenantRow = (id: string) => db.selectFrom('tenants').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    const tenantEvents = (id: string) => db.selectFrom('tenant_events').select(['type', 'actor', 'data']).where('tenant_id', '=', id).orderBy('id').execute();

    t.test('a suspension is delivered only to the configured destinations; with none, the event is still kept', async (t) => {
      for (const [tenant, destinations] of [['dest-both', ['kafka', 'webhook']], ['dest-webhook', ['webhook']], ['dest-kafka', ['kafka']], ['dest-none', []]] as const) {
        const { ticket } = await openTicketFor(db, tenant, NOW);
        t.match(await command(db, ticket.id, { type: 'suspend' }, { now: minutesAfter(NOW, 1), actor: 'agent:dana', reason: 'still sending', destinations }), { ok: true });
        t.same((await messageView(db, ticket.id, ''))?.suspension, { automated: false, grounds: 'still sending' }, `${tenant}: the notice quotes the agent's reason`);
        t.equal((await outboxOf(db, ticket.id)).length, 1, `${tenant}: the event is in the outbox`);
        t.same(await deliveriesOf(ticket.id), [...destinations], `${tenant}: one delivery per configured destination`);
      }
    });

    t.test('resolving starts probation even when mail was never disabled, on the record', async (t) => {
      const { ticket } = await openTicketFor(db, 'prob-engaged', NOW);
      await command(db, ticket.id, { type: 'contact_reached', contactId: null }, { now: minutesAfter(NOW, 1), actor: 'agent:dana', reason: 'phoned' });
      const resolvedAt = minutesAfter(NOW, 10);
      t.match(await command(db, ticket.id, { type: 'resolve' }, { now: resolvedAt, actor: 'agent:dana', reason: 'fixed' }), { ok: true, ticket: { state: 'resolved', outbound_disabled: false } });
      t.match(await tenantRow('prob-engaged'), { probation_since: resolvedAt, probation_until: minutesAfter(resolvedAt, 24 * 60), outbound_enabled: true });
      t.match(await tenantEvents('prob-engaged'), [{ type: 'probation.started', actor: 'agent:dana', data: { factor: 0.5, ticketNumber: ticket.number } }]);
      t.same(await outboxOf(db, ticket.id), [], 'no enforcement event: mail was never off');
    });

    t.test('a dismissal (false positive) starts no probation', async (t) => {
      const { ticket } = await openTicketFor(db, 'prob-dismissed', NOW);
      await command(db, ticket.id, { type: 'suspend' }, { now: minutesAfter(NOW, 1), actor: 'agent:dana', reason: 'spam' });
      t.match(await command(db, ticket.id, { type: 'dismiss' }, { now: minutesAfter(NOW, 5), actor: 'agent:dana', reason: 'false positive' }), { ok: true, ticket: { state: 'dismissed' } });
      t.match(await tenantRow('prob-dismissed'), { probation_since: null, probation_until: null, outbound_enabled: true });
      t.same(await tenantEvents('prob-dismissed'), []);
    });
  });
}
