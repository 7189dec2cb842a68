import { ticketView } from '@abuse-desk/testkit';
import t from 'tap';
import { digestCallScript, renderDigest } from './digest.js';
import type { DigestEntry } from './digest.js';

const entry = (number: string, tenantName: string, kind: DigestEntry['kind'], deadlineAt: Date | null = null): DigestEntry => ({
  kind,
  view: ticketView({ number, tenantId: tenantName.toLowerCase().replace(/\W+/g, '-'), tenantName, deadlineAt, resolutionUrl: `https://abuse.example/resolve/tok-${number}` }),
  ticketUrl: `https://abuse.example/ui/tickets/${number}`,
});

t.test('a digest lists every held message on a line of its own that starts with the ticket number, with its facts and links', async (t) => {
  const entries = [entry('ABU-000101', 'Acme <Hosting>', 'tam_briefing'), entry('ABU-000102', 'Globex', 'tam_briefing'), entry('ABU-000101', 'Acme <Hosting>', 'final', new Date('2026-11-22T11:15:00Z'))];
  const d = renderDigest(entries, { name: 'Tom TAM', timezone: null }, 5);
  t.equal(d.subject, '[abuse-desk] Digest: 3 messages on 2 tickets for 2 tenants');
  const titles = d.text.split('\n').filter((l) => /^ABU-\d{6} · /.test(l));
  t.same(
    titles.map((l) => l.replace(/ — .*$/, '')),
    ['ABU-000101 · Acme <Hosting> · TAM briefing: outbound spam from Acme <Hosting>', 'ABU-000102 · Globex · TAM briefing: outbound spam from Globex', 'ABU-000101 · Acme <Hosting> · Final notice: outbound spam from Acme <Hosting>'],
    'one line per message: number, tenant, what its own email would have said',
  );
  t.match(d.text, 'one digest at most every 5 minutes');
  t.match(d.text, '    Report the fix: https://abuse.example/resolve/tok-ABU-000102');
  t.match(d.text, '    Ticket: https://abuse.example/ui/tickets/ABU-000102');
  t.match(d.text, '    Deadline: not running');
  t.match(d.text, '    Deadline: 2026-11-22 11:15 UTC', 'the deadline of a ticket whose deadline runs');
  t.match(d.html, '<a href="https://abuse.example/resolve/tok-ABU-000101">', 'links are links in the HTML part');
  t.notMatch(d.html, '<Hosting>', 'tenant names are escaped in the HTML part');
  t.match(d.html, 'Acme &lt;Hosting&gt;');
});

t.test('a digest sent after digests were switched off says so', async (t) => {
  t.match(renderDigest([entry('ABU-000103', 'Initech', 'followup')], { name: '', timezone: null }, 0).text, 'waiting for a digest when digests were switched off');
});

t.test('a digest call says how many tickets wait and for whom, naming at most five tenants', async (t) => {
  t.equal(
    digestCallScript({ tickets: 7, tenants: ['A', 'B', 'C', 'D', 'E', 'F', 'G'], name: 'Tom' }),
    'Hello Tom. This is the abuse desk of your mail provider. 7 new abuse tickets of your tenants are waiting: A, B, C, D, E, and 2 other tenants. The details and the links are in the digest email we sent you. Goodbye.',
  );
  t.match(digestCallScript({ tickets: 1, tenants: ['Acme'], name: null }), /^Hello\. .* 1 new abuse ticket of your tenants is waiting: Acme\./);
});
