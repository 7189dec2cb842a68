// What tripped: the counts and window, the top senders, and the tenant's verdicts around the trip as a chart.
import type { Bucket, CountsReply, TicketSummary } from '@abuse-desk/contracts';
import { useEffect, useState } from 'preact/hooks';
import { api, isAbort } from '../api';
import { percent, utc } from '../format';
import { CountsChart } from './CountsChart';
import { ProblemAlert } from './Problem';

const MARGIN_MS = 15 * 60_000;

export function EvidenceCard({ ticket: t }: { ticket: TicketSummary }) {
  const e = t.evidence;
  const [buckets, setBuckets] = useState<Bucket[] | null>(null);
  const [chartError, setChartError] = useState<unknown>(null);

  // The chart: the tenant's counts from 15 minutes before the window to 15 minutes after it.
  const windowKey = `${t.tenantId}|${e.windowStart}|${e.windowEnd}`;
  useEffect(() => {
    const ctrl = new AbortController();
    const from = new Date(Date.parse(e.windowStart) - MARGIN_MS).toISOString();
    const to = new Date(Date.parse(e.windowEnd) + MARGIN_MS).toISOString();
    api<CountsReply>(`/v1/tenants/${encodeURIComponent(t.tenantId)}/counts?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`, { signal: ctrl.signal })
      .then((r) => {
        setBuckets(r.buckets);
        setChartError(null);
      })
      .catch((err) => {
        if (!isAbort(err)) setChartError(err);
      });
    return () => ctrl.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [windowKey]);

  return (
    <section class="card">
      <h2 id="h-evidence">Evidence</h2>
      <dl class="facts">
        <div>
          <dt>Spam</dt>
          <dd>{e.counts.spam}</dd>
        </div>
        <div>
          <dt>Phish</dt>
          <dd>{e.counts.phish}</dd>
        </div>
        <div>
          <dt>Virus</dt>
          <dd>{e.counts.virus}</dd>
        </div>
        <div>
          <dt>Clean</dt>
          <dd>{e.counts.clean}</dd>
        </div>
        <div>
          <dt>{e.complaints ? 'Complaint rate' : 'Spam + phish ratio'}</dt>
          <dd>{percent(e.ratio)}</dd>
        </div>
        <div class="wide">
          <dt>Window</dt>
          <dd>
            {utc(e.windowStart)} – {utc(e.windowEnd)} ({Math.round(e.windowSeconds / 60)} min)
          </dd>
        </div>
        {e.surge ? (
          <div>
            <dt>Surge</dt>
            <dd>
              volume {e.surge.volume} vs baseline {e.surge.baseline}
              {e.surge.multiple !== null ? ` (×${e.surge.multiple.toFixed(1)})` : ''}
            </dd>
          </div>
        ) : null}
        {e.probationUntil ? (
          <div>
            <dt>Opened during probation, until</dt>
            <dd>{utc(e.probationUntil)}</dd>
          </div>
        ) : null}
      </dl>
      {e.complaints ? <ComplaintEvidence c={e.complaints} /> : null}
      <h3>Top senders</h3>
      {e.topSenders.length === 0 ? (
        <p class="muted">None recorded.</p>
      ) : (
        <ol class="senders">
          {e.topSenders.map((s) => (
            <li key={s.sender}>
              <code>{s.sender}</code> — {s.count}
            </li>
          ))}
        </ol>
      )}
      <h3>Verdicts around the trip</h3>
      {chartError ? (
        <ProblemAlert error={chartError} />
      ) : buckets ? (
        <CountsChart
          tenantId={t.tenantId}
          from={new Date(Date.parse(e.windowStart) - MARGIN_MS)}
          to={new Date(Date.parse(e.windowEnd) + MARGIN_MS)}
          windowStart={new Date(e.windowStart)}
          windowEnd={new Date(e.windowEnd)}
          buckets={buckets}
        />
      ) : (
        <p class="muted">Loading counts…</p>
      )}
    </section>
  );
}

/** Complaint tickets (issue 17): the reports behind the trip — feedback types, subjects, and up to five samples (headers only, recipients redacted). */
function ComplaintEvidence({ c }: { c: NonNullable<TicketSummary['evidence']['complaints']> }) {
  return (
    <div data-testid="complaint-evidence">
      <h3>Complaint reports</h3>
      <p>
        {c.count} report{c.count === 1 ? '' : 's'} in the window: {Object.entries(c.feedbackTypes).map(([type, n]) => `${type} ${n}`).join(', ')}
      </p>
      {c.topSubjects.length ? (
        <>
          <h4>Top subjects</h4>
          <ol class="senders">
            {c.topSubjects.map((s) => (
              <li key={s.subject}>
                {s.subject} — {s.count}
              </li>
            ))}
          </ol>
        </>
      ) : null}
      <h4>Sample reports</h4>
      {c.samples.map((s, i) => (
        <details key={i}>
          <summary>
            {s.feedbackType} — {utc(s.receivedAt)}
            {s.sourceIp ? ` from ${s.sourceIp}` : ''}
          </summary>
          <pre class="headers">{s.headers}</pre>
        </details>
      ))}
    </div>
  );
}
