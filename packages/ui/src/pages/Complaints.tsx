// Complaint reports received by the intake (GET /v1/complaints, issue 17): what each became — counted
// against a tenant, a duplicate, unattributed (counted against nobody), or a dead letter — and why.
import type { ComplaintReportView } from '@abuse-desk/contracts';
import { useEffect, useState } from 'preact/hooks';
import { api, isAbort } from '../api';
import { useFocusHeading } from '../components/hooks';
import { ProblemAlert } from '../components/Problem';
import { utc } from '../format';
import { tenantHref } from '../router';

const OUTCOMES = [
  ['', 'all'],
  ['unattributed', 'unattributed'],
  ['counted', 'counted'],
  ['duplicate', 'duplicate'],
  ['dead_letter', 'dead letter'],
  ['pending', 'not processed yet'],
] as const;

export function Complaints() {
  const heading = useFocusHeading('complaints');
  const [outcome, setOutcome] = useState<string>('unattributed');
  const [items, setItems] = useState<ComplaintReportView[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    const ctrl = new AbortController();
    setItems(null);
    api<{ items: ComplaintReportView[] }>(`/v1/complaints?limit=200${outcome ? `&outcome=${outcome}` : ''}`, { signal: ctrl.signal })
      .then((r) => {
        setItems(r.items);
        setError(null);
      })
      .catch((err) => {
        if (!isAbort(err)) setError(err);
      });
    return () => ctrl.abort();
  }, [outcome]);

  return (
    <main id="main">
      <h1 ref={heading} tabIndex={-1}>
        Complaint reports
      </h1>
      <p class="muted">Reports from mailbox providers' feedback loops and abuse reporters, newest first. Unattributed reports are counted against nobody: add the sender's IP range to its tenant, or have the platform stamp its mail.</p>
      <div class="field">
        <label for="complaint-outcome">Show</label>
        <select id="complaint-outcome" value={outcome} onChange={(e) => setOutcome((e.target as HTMLSelectElement).value)}>
          {OUTCOMES.map(([value, words]) => (
            <option key={value} value={value}>
              {words}
            </option>
          ))}
        </select>
      </div>
      <ProblemAlert error={error} />
      {items === null ? (
        error ? null : <p class="muted">Loading…</p>
      ) : items.length === 0 ? (
        <p class="empty">No reports.</p>
      ) : (
        <div class="table-wrap">
          <table class="stack" data-testid="complaints">
            <thead>
              <tr>
                <th scope="col">Received</th>
                <th scope="col">Outcome</th>
                <th scope="col">Tenant</th>
                <th scope="col">Report</th>
                <th scope="col">Reported message</th>
                <th scope="col">Why</th>
              </tr>
            </thead>
            <tbody>
              {items.map((c) => (
                <tr key={c.id}>
                  <td data-label="Received" class="nowrap">{utc(c.receivedAt)}</td>
                  <td data-label="Outcome">{c.outcome ? c.outcome.replace(/_/g, ' ') : c.status}</td>
                  <td data-label="Tenant">{c.tenantId ? <a href={tenantHref(c.tenantId)}>{c.tenantId}</a> : '—'}</td>
                  <td data-label="Report">
                    {c.format ?? '—'} {c.feedbackType ?? ''}
                    {c.sourceIp ? ` from ${c.sourceIp}` : ''}
                    {c.arrivalDate ? `, arrived ${utc(c.arrivalDate)}` : ''}
                  </td>
                  <td data-label="Reported message">
                    {c.mailFrom ? <div>{c.mailFrom}</div> : null}
                    {c.subject ? <div>{c.subject}</div> : null}
                    {c.messageId ? <code class="raw">{c.messageId}</code> : null}
                  </td>
                  <td data-label="Why" class="small">{c.attributionDetail ?? c.lastError ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </main>
  );
}
