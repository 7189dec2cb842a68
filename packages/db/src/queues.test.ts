// The queues other than contact attempts, through the one claim helper: enforcement deliveries head of line
// per tenant (a reinstatement never overtakes its suspension), and commands to live calls (leased, retried
// with backoff while the call has no SID, given up after MAX_CALL_COMMAND_TRIES).
import t from 'tap';
import { CALL_COMMAND_BACKOFF, MAX_CALL_COMMAND_TRIES, claimCallCommands, markCallCommandDone, queueCallCommand, retryCallCommand } from './call-commands.js';
import { backoffMs, claimDue } from './claim.js';
import { claimDeliveries, markDelivered, markDeliveryFailed } from './outbox.js';
import { ENGINES, claimAllCalls, openTestDb, storedRows } from './testing.js';
import { NOW, command, minutesAfter, openTicketFor } from './tickets.fixtures.js';

const lease = (now: Date, workerId = 'worker-a') => ({ now, limit: 10, leaseSeconds: 30, workerId });

t.test('the backoff doubles from its first delay up to its cap, with ±50 % jitter', async (t) => {
  const o = { firstMs: 1000, capMs: 8000 };
  t.same([1, 2, 3, 4, 5, 9].map((n) => backoffMs(n, o, 0.5)), [1000, 2000, 4000, 8000, 8000, 8000]);
  t.equal(backoffMs(1, o, 0), 500);
  t.equal(backoffMs(1, o, 1), 1500);
});

for (const engine of ENGINES) {
  t.test(engine, async (t) => {
    const h = await openTestDb(engine, process.env);
    t.teardown(() => h.close());
    const { db } = h;

    t.test("a tenant's enforcement events are claimed one at a time, in order; other tenants' heads go on", async (t) => {
      const a = await openTicketFor(db, 'hol-a', NOW);
      const b = await openTicketFor(db, 'hol-b', NOW);
      await command(db, a.ticket.id, { type: 'suspend' }, { now: minutesAfter(NOW, 1), actor: 'agent:dana', reason: 'spam' });
      await command(db, a.ticket.id, { type: 'resolve' }, { now: minutesAfter(NOW, 2), actor: 'agent:dana', reason: 'fixed' });
      await command(db, b.ticket.id, { type: 'suspend' }, { now: minutesAfter(NOW, 3), actor: 'agent:dana', reason: 'spam' });
      const at = minutesAfter(NOW, 5);
      const first = await claimDeliveries(db, 'kafka', lease(at));
      t.same(first.map((d) => [d.tenant_id, d.payload['type'], d.tries]).sort(), [['hol-a', 'outbound.suspended', 1], ['hol-b', 'outbound.suspended', 1]], 'only the head of each tenant');
      t.same(await claimDeliveries(db, 'kafka', lease(at, 'worker-b')), [], 'leased heads are not claimed again, and the next event waits behind its head');
      t.equal((await claimDeliveries(db, 'webhook', lease(at))).length, 2, 'each destination has its own line');

      const headB = first.find((d) => d.tenant_id === 'hol-b')!;
      await markDelivered(db, 'kafka', [headB.event_id], at);
      const headA = first.find((d) => d.tenant_id === 'hol-a')!;
      await markDeliveryFailed(db, 'kafka', [headA.event_id], headA.tries, 'broker down', at);
      t.same(await claimDeliveries(db, 'kafka', lease(at)), [], 'a failed head is retried later, and still blocks its tenant');
      const retried = await claimDeliveries(db, 'kafka', lease(minutesAfter(at, 10)));
      t.same(retried.map((d) => [d.tenant_id, d.payload['type'], d.tries]), [['hol-a', 'outbound.suspended', 2]]);
      await markDelivered(db, 'kafka', [headA.event_id], minutesAfter(at, 10));
      const next = await claimDeliveries(db, 'kafka', lease(minutesAfter(at, 10)));
      t.same(next.map((d) => [d.tenant_id, d.payload['type']]), [['hol-a', 'outbound.reinstated']], 'delivered: the next event of the tenant comes up');
    });

    t.test('a command to a call is leased to one worker, waits with backoff for the SID, and gives up in the end', async (t) => {
      const { ticket } = await openTicketFor(db, 'cmd', NOW);
      const [call] = (await claimAllCalls(db, lease(NOW))).filter((a) => a.ticket_id === ticket.id && a.kind === 'call');
      t.ok(call, 'the call is being placed (dispatching, no SID yet)');
      await queueCallCommand(db, call!, 'cancel', NOW);
      await queueCallCommand(db, call!, 'cancel', NOW);
      t.equal((await storedRows(db, 'call_commands', { attempt_id: call!.id })).length, 1, 'queued once, however often it is decided');

      const [claimed] = await claimCallCommands(db, lease(NOW));
      t.match(claimed, { command: 'cancel', tries: 1, attempt: { id: call!.id, status: 'dispatching', provider_ref: null } });
      t.same(await claimCallCommands(db, lease(NOW, 'worker-b')), [], 'leased');
      t.equal(await retryCallCommand(db, claimed!.id, 'worker-a', claimed!.tries, 'no SID yet', NOW), 'retry');
      const [row] = await storedRows(db, 'call_commands', { id: claimed!.id });
      t.ok(row!.due_at.getTime() >= NOW.getTime() + backoffMs(1, CALL_COMMAND_BACKOFF, 0) && row!.due_at.getTime() <= NOW.getTime() + backoffMs(1, CALL_COMMAND_BACKOFF, 1), 'due again after the backoff');
      t.same(await claimCallCommands(db, lease(NOW)), [], 'not before');
      const [again] = await claimCallCommands(db, lease(minutesAfter(NOW, 1), 'worker-b'));
      t.match(again, { id: claimed!.id, tries: 2 }, 'claimed again once due');
      t.equal(await retryCallCommand(db, claimed!.id, 'worker-a', 2, 'late', NOW), 'not_mine', 'the first worker lost it with its lease');
      t.equal(await retryCallCommand(db, claimed!.id, 'worker-b', MAX_CALL_COMMAND_TRIES, 'still no SID', NOW), 'failed');
      t.match((await storedRows(db, 'call_commands', { id: claimed!.id }))[0], { status: 'failed', last_error: 'still no SID' });
      t.same(await claimCallCommands(db, lease(minutesAfter(NOW, 60))), [], 'a failed command is never claimed again');
    });

    t.test('a done command is never claimed again', async (t) => {
      const { ticket } = await openTicketFor(db, 'cmd-done', NOW);
      const [call] = (await claimAllCalls(db, lease(NOW))).filter((a) => a.ticket_id === ticket.id && a.kind === 'call');
      await queueCallCommand(db, call!, 'voicemail', NOW);
      const [claimed] = await claimCallCommands(db, lease(NOW));
      await markCallCommandDone(db, claimed!.id, 'worker-b', NOW);
      t.match((await storedRows(db, 'call_commands', { id: claimed!.id }))[0], { status: 'pending' }, 'a worker that does not hold the lease changes nothing');
      await markCallCommandDone(db, claimed!.id, 'worker-a', NOW);
      t.same(await claimCallCommands(db, lease(minutesAfter(NOW, 60))), []);
      t.match((await storedRows(db, 'call_commands', { id: claimed!.id }))[0], { status: 'done', locked_by: null });
    });
  });
}
