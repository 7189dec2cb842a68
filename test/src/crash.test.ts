// SIGKILL at points of the walk: after each restart the walk goes on where it stopped, no contact gets
// the same email twice, none is skipped, and a deadline that passed while the service was down is
// enforced at once.
import { startSmtpSink, waitUntil } from '@abuse-desk/testkit';
import t from 'tap';
import { CONTACTS, client, label, prepareService, spamBurst } from './harness.js';
import type { Arrangement } from './harness.js';

const arrangements: Arrangement[] = [
  { engine: 'postgres', processes: 'one' },
  { engine: 'postgres', processes: 'four' },
  { engine: 'pglite', processes: 'one' },
];

for (const arrangement of arrangements) {
  t.test(`${label(arrangement)}: killed three times during the walk (while calls ring and while the deadline runs), it still ends suspended with every call placed and every email sent once`, async (t) => {
    const sink = await startSmtpSink();
    t.teardown(() => sink.close());
    const svc = await prepareService({
      name: `crash-${arrangement.engine}-${arrangement.processes}`,
      arrangement,
      // The deadline is long enough that the walk's end is seen before it passes, even when restarting four
      // processes one after another takes several seconds.
      // Calls ring 20 s: the kills must land while one rings and no email is on its way, a window a loaded
      // machine (restarting four processes, sending the follow-up) missed at 6 s and at 10 s.
      env: { SMTP_URL: sink.url, RESOLUTION_TIMEOUT_SECONDS: '15', CALL_RING_SECONDS: '20', WORK_LEASE_SECONDS: '3' },
    });
    t.teardown(() => svc.stop());
    await svc.start();
    const api = client(svc.baseUrl);
    await api('PUT', '/v1/tenants/initech', { name: 'Initech' });
    await api('PUT', '/v1/tenants/initech/contacts', [...CONTACTS, { name: 'Carol Chief', phone: '+14155550103', email: 'carol@tenant.example', role: 'contact' }]);
    const number: string = (await api('POST', '/v1/verdicts', spamBurst('initech'))).body.ticketsOpened[0];
    t.ok(number);
    const ticket = async () => (await api('GET', `/v1/tickets/${number}`)).body;
    const attempt = (tk: any, kind: string, name: string) => tk.attempts.find((a: any) => a.kind === kind && a.contactName === name);

    // The kills land while calls ring, when no email is on its way: an email is sent at least once, and a
    // kill in the millisecond between the SMTP server's acceptance and our record of it would send it again
    // (same Message-ID; see README "What a crash does"). Calls are never placed twice whenever the kill lands
    // (the Twilio tests kill between create and recording the SID).
    const quiet = (x: any) => x.attempts.filter((a: any) => a.channel === 'email').every((a: any) => ['done', 'canceled', 'failed'].includes(a.status));
    // 1: the TAM is briefed and Alice's phone rings.
    await waitUntil(async () => {
      const x = await ticket();
      return attempt(x, 'call', 'Alice Admin')?.status === 'placed' && attempt(x, 'tam_briefing', 'Tara TAM')?.status === 'done' && quiet(x);
    }, { timeoutMs: 60_000, message: 'Alice was never called' });
    await svc.kill();
    await svc.start();
    // 2: Bob's phone rings.
    await waitUntil(async () => {
      const x = await ticket();
      return attempt(x, 'call', 'Bob Backup')?.status === 'placed' && quiet(x);
    }, { timeoutMs: 60_000, message: 'Bob was never called' });
    await svc.kill();
    await svc.start();
    // 3: after the final emails, so that the deadline passes while nothing runs.
    const tk = await waitUntil(async () => {
      const x = await ticket();
      return x.state === 'awaiting_response' && x.attempts.filter((a: any) => a.kind === 'final').every((a: any) => a.outcome === 'sent') && quiet(x) ? x : null;
    }, { timeoutMs: 75_000, message: 'the walk did not reach its end' });
    await svc.kill();
    await waitUntil(async () => Date.now() > new Date(tk.deadlineAt).getTime() + 500, { timeoutMs: 30_000, message: 'clock' });
    await svc.start();

    const done = await waitUntil(async () => {
      const x = await ticket();
      return x.state === 'suspended' && x.attempts.filter((a: any) => a.channel === 'email').every((a: any) => a.outcome === 'sent') ? x : null;
    }, { timeoutMs: 30_000, message: 'the overdue deadline was not enforced after the restart' });

    const calls = done.attempts.filter((a: any) => a.kind === 'call');
    t.same(calls.map((a: any) => a.contactName), ['Alice Admin', 'Bob Backup', 'Carol Chief'], 'each contact was called once, in order');
    const emails = done.attempts.filter((a: any) => a.channel === 'email');
    const expected = [
      ['tam_briefing', 'Tara TAM'],
      ['followup', 'Alice Admin'],
      ['followup', 'Bob Backup'],
      ['followup', 'Carol Chief'],
      ['final', 'Alice Admin'],
      ['final', 'Bob Backup'],
      ['final', 'Carol Chief'],
      ['final', 'Tara TAM'],
      ['suspension_notice', 'Alice Admin'],
      ['suspension_notice', 'Bob Backup'],
      ['suspension_notice', 'Carol Chief'],
      ['suspension_notice', 'Tara TAM'],
    ];
    t.same(emails.map((a: any) => [a.kind, a.contactName]).sort(), expected.sort(), 'no email was skipped or planned twice');
    await sink.waitFor(() => true, { count: expected.length });
    for (const a of emails) {
      t.equal(sink.messages.filter((m) => m.messageId === `<${a.id}@abuse-desk>`).length, 1, `${a.kind} to ${a.contactName} arrived exactly once`);
    }
    t.equal(done.enforcementEvents.length, 1, 'one suspension event');
    t.equal((await api('GET', '/v1/tenants/initech/outbound')).body.enabled, false);
  });
}
