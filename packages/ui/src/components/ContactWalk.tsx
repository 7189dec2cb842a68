// A ticket's contact walk as a timeline: each call, email and notice with its result, and each
// acknowledgement with who gave it and how (key press, email link, SMS, agent).
import type { TicketDetail, TicketEvent } from '@abuse-desk/contracts';
import { attemptResultWords, channelWords, kindWords, utc } from '../format';

type Attempt = TicketDetail['attempts'][number];
type Entry = { at: string; attempt: Attempt } | { at: string; ack: { who: string; how: string; tam: boolean } };

const ACK_HOW: Record<string, string> = { key_press: 'key press', link: 'email link', sms: 'SMS', agent: 'agent' };

/** An acknowledgement on the timeline: a `contact_reached` event, or a TAM's `acknowledged` (recorded only). */
function acknowledgement(t: TicketDetail, e: TicketEvent): Entry | null {
  if (e.type !== 'contact_reached' && e.type !== 'acknowledged') return null;
  const data = (e.data ?? {}) as { contactId?: string; contactName?: string; channel?: string; attemptId?: string };
  const contact = t.contacts.find((c) => c.id === data.contactId);
  const channel = data.channel ?? (data.attemptId ? 'key_press' : 'agent');
  return { at: e.at, ack: { who: data.contactName ?? contact?.name ?? e.actor, how: ACK_HOW[channel] ?? channel, tam: e.type === 'acknowledged' } };
}

export function ContactWalk({ ticket: t }: { ticket: TicketDetail }) {
  const entries: Entry[] = [...t.attempts.map((a) => ({ at: a.createdAt, attempt: a })), ...t.events.map((e) => acknowledgement(t, e)).filter((x): x is Entry => x !== null)].sort(
    // At the same instant the acknowledgement comes first: the confirmations it caused follow it.
    (a, b) => Date.parse(a.at) - Date.parse(b.at) || Number('attempt' in a) - Number('attempt' in b),
  );
  if (t.attempts.length === 0) {
    return <p class="muted">{t.noContacts ? 'Nobody to contact.' : t.state === 'shadow' ? 'Shadow tickets contact nobody.' : 'No contact attempts yet.'}</p>;
  }
  return (
    <ol class="timeline">
      {entries.map((entry) =>
        'ack' in entry ? (
          <li key={`ack-${entry.at}`} class="attempt result-acknowledged" data-testid="acknowledgement">
            <span class="when">{utc(entry.at)}</span>
            <span class="what">
              <span class="pill">{entry.ack.how}</span> <strong>Acknowledged</strong> by {entry.ack.who}
            </span>
            {entry.ack.tam ? <span class="muted small">a TAM’s acknowledgement is recorded; the walk goes on</span> : null}
          </li>
        ) : (
          <li key={entry.attempt.id} class={`attempt result-${(entry.attempt.outcome ?? entry.attempt.status).replace(/[^a-z]/g, '')}`}>
            <span class="when">{utc(entry.attempt.createdAt)}</span>
            <span class="what">
              <span class="pill">{channelWords(entry.attempt.channel)}</span> <strong>{kindWords(entry.attempt.kind)}</strong>{entry.attempt.round > 1 ? ` (call ${entry.attempt.round})` : ''} to {entry.attempt.contactName}
            </span>
            <span class="result">{attemptResultWords(entry.attempt)}</span>
            {entry.attempt.completedAt ? <span class="muted small">finished {utc(entry.attempt.completedAt)}</span> : null}
            {entry.attempt.digestId ? <span class="muted small">{entry.attempt.status === 'held' ? 'waits for the digest of this address (shared by several tenants)' : 'sent in a digest'}</span> : null}
            {entry.attempt.lastError ? (
              <span class={entry.attempt.outcome === 'rate-limited' ? 'small' : 'bad small'}>{entry.attempt.outcome === 'rate-limited' ? entry.attempt.lastError : `error: ${entry.attempt.lastError}`}</span>
            ) : null}
          </li>
        ),
      )}
    </ol>
  );
}
