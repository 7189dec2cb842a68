// Verdict messages that could not be counted (GET /v1/dead-letters).
import type { DeadLetter, DeadLetterPage } from '@abuse-desk/contracts';
import { useEffect, useState } from 'preact/hooks';
import { api, isAbort } from '../api';
import { useFocusHeading } from '../components/hooks';
import { ProblemAlert } from '../components/Problem';
import { utc } from '../format';

export function DeadLetters() {
  const heading = useFocusHeading('dead-letters');
  const [items, setItems] = useState<DeadLetter[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    const ctrl = new AbortController();
    api<DeadLetterPage>('/v1/dead-letters', { signal: ctrl.signal })
      .then((r) => setItems(r.items))
      .catch((err) => {
        if (!isAbort(err)) setError(err);
      });
    return () => ctrl.abort();
  }, []);

  return (
    <main id="main">
      <h1 ref={heading} tabIndex={-1}>
        Dead letters
      </h1>
      <p class="muted">Verdict messages that could not be counted, newest first.</p>
      <ProblemAlert error={error} />
      {items === null ? (
        error ? null : <p class="muted">Loading…</p>
      ) : items.length === 0 ? (
        <p class="empty">No dead letters.</p>
      ) : (
        <div class="table-wrap">
          <table class="stack">
            <thead>
              <tr>
                <th scope="col">Received</th>
                <th scope="col">Source</th>
                <th scope="col">Topic / partition / offset</th>
                <th scope="col">Reason</th>
                <th scope="col">Raw</th>
              </tr>
            </thead>
            <tbody>
              {items.map((d) => (
                <tr key={d.id}>
                  <td data-label="Received" class="nowrap">{utc(d.receivedAt)}</td>
                  <td data-label="Source">{d.source}</td>
                  <td data-label="Topic / partition / offset">{d.topic ? `${d.topic} / ${d.partition ?? '—'} / ${d.offset ?? '—'}` : '—'}</td>
                  <td data-label="Reason">{d.reason}</td>
                  <td data-label="Raw">
                    <code class="raw">{d.raw.length > 200 ? `${d.raw.slice(0, 200)}…` : d.raw}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </main>
  );
}
