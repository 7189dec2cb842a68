// Enforcement events (outbound.suspended / reinstated) with their delivery state per destination.
import type { EnforcementEventView } from '@abuse-desk/contracts';
import { utc } from '../format';

export function EnforcementList({ events }: { events: EnforcementEventView[] }) {
  if (events.length === 0) return <p class="muted">No enforcement events.</p>;
  return (
    <ol class="plain-list">
      {events.map((e) => (
        <li key={e.eventId} class="card">
          <p>
            <strong>{e.type === 'outbound.suspended' ? 'Outbound suspended' : e.type === 'outbound.reinstated' ? 'Outbound reinstated' : e.type}</strong> · sequence {e.sequence} · {utc(e.at)}
          </p>
          <div class="table-wrap">
            <table class="stack">
              <caption class="visually-hidden">Deliveries of event {e.eventId}</caption>
              <thead>
                <tr>
                  <th scope="col">Destination</th>
                  <th scope="col">Delivery</th>
                  <th scope="col">Tries</th>
                  <th scope="col">Delivered at</th>
                  <th scope="col">Last error</th>
                </tr>
              </thead>
              <tbody>
                {e.deliveries.length === 0 ? (
                  <tr>
                    <td colSpan={5}>No destination configured</td>
                  </tr>
                ) : (
                  e.deliveries.map((d) => (
                    <tr key={d.destination}>
                      <td data-label="Destination">{d.destination}</td>
                      <td data-label="Delivery">
                        <span class={`pill delivery-${d.status}`}>{d.status}</span>
                        {d.status !== 'delivered' && d.nextAttemptAt ? <span class="muted"> · next try {utc(d.nextAttemptAt)}</span> : null}
                      </td>
                      <td data-label="Tries">{d.tries}</td>
                      <td data-label="Delivered at">{d.deliveredAt ? utc(d.deliveredAt) : '—'}</td>
                      <td data-label="Last error">{d.lastError ?? '—'}</td>
                    </tr>
                  ))
                )}
              </tbody>
            </table>
          </div>
        </li>
      ))}
    </ol>
  );
}
