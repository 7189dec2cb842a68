// A ticket's contact walk as a timeline: each call, email and notice with its result.
import type { TicketDetail } from '@abuse-desk/contracts';
import { attemptResultWords, channelWords, kindWords, utc } from '../format';

export function ContactWalk({ ticket: t }: { ticket: TicketDetail }) {
  const attempts = [...t.attempts].sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt));
  if (attempts.length === 0) {
    return <p class="muted">{t.noContacts ? 'Nobody to contact.' : t.state === 'shadow' ? 'Shadow tickets contact nobody.' : 'No contact attempts yet.'}</p>;
  }
  return (
    <ol class="timeline">
      {attempts.map((a) => (
        <li key={a.id} class={`attempt result-${(a.outcome ?? a.status).replace(/[^a-z]/g, '')}`}>
          <span class="when">{utc(a.createdAt)}</span>
          <span class="what">
            <span class="pill">{channelWords(a.channel)}</span> <strong>{kindWords(a.kind)}</strong> to {a.contactName}
          </span>
          <span class="result">{attemptResultWords(a)}</span>
          {a.completedAt ? <span class="muted small">finished {utc(a.completedAt)}</span> : null}
          {a.digestId ? <span class="muted small">{a.status === 'held' ? 'waits for the digest of this address (shared by several tenants)' : 'sent in a digest'}</span> : null}
          {a.lastError ? <span class={a.outcome === 'rate-limited' ? 'small' : 'bad small'}>{a.outcome === 'rate-limited' ? a.lastError : `error: ${a.lastError}`}</span> : null}
        </li>
      ))}
    </ol>
  );
}
