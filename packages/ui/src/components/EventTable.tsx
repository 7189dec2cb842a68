// An event timeline as a table (time, actor, what, reason): a ticket's events and a tenant's alike.
import { eventWords, stateWords, utc } from '../format';

export interface TimelineEvent {
  at: string;
  actor: string;
  type: string;
  reason: string | null;
  /** Ticket events name the transition they made. */
  fromState?: string | null;
  toState?: string | null;
  data?: unknown;
}

/** The reason, and the detail an event carries when its reason is a single word (a rate-limited call names the limit). */
const reasonOf = (ev: TimelineEvent) => {
  const detail = (ev.data as { detail?: unknown } | null | undefined)?.detail;
  return [ev.reason, typeof detail === 'string' ? detail : null].filter(Boolean).join(': ') || '—';
};

export function EventTable({ events }: { events: TimelineEvent[] }) {
  return (
    <div class="table-wrap">
      <table class="stack">
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Actor</th>
            <th scope="col">What</th>
            <th scope="col">Reason</th>
          </tr>
        </thead>
        <tbody>
          {events.map((ev, i) => (
            <tr key={i}>
              <td data-label="Time" class="nowrap">{utc(ev.at)}</td>
              <td data-label="Actor">{ev.actor}</td>
              <td data-label="What">
                {eventWords(ev.type)}
                {ev.fromState && ev.toState && ev.fromState !== ev.toState ? <span class="muted"> ({stateWords(ev.fromState)} → {stateWords(ev.toState)})</span> : null}
              </td>
              <td data-label="Reason" class="prewrap">{reasonOf(ev)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
