// A list of tickets as a table linking to each: number, state, severity, rule, opened, closed.
import type { TicketSummary } from '@abuse-desk/contracts';
import { stateWords, utc } from '../format';
import { ticketHref } from '../router';

export function TicketTable({ tickets }: { tickets: TicketSummary[] }) {
  return (
    <div class="table-wrap">
      <table class="stack">
        <thead>
          <tr>
            <th scope="col">Ticket</th>
            <th scope="col">State</th>
            <th scope="col">Severity</th>
            <th scope="col">Rule</th>
            <th scope="col">Opened</th>
            <th scope="col">Closed</th>
          </tr>
        </thead>
        <tbody>
          {tickets.map((t) => (
            <tr key={t.id}>
              <td data-label="Ticket">
                <a href={ticketHref(t.number)}>{t.number}</a>
              </td>
              <td data-label="State">{stateWords(t.state)}</td>
              <td data-label="Severity">{t.severity}</td>
              <td data-label="Rule">{t.rule}</td>
              <td data-label="Opened" class="nowrap">{utc(t.openedAt)}</td>
              <td data-label="Closed" class="nowrap">{t.closedAt ? utc(t.closedAt) : '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
