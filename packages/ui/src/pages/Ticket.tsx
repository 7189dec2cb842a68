// One ticket: what tripped, the chart around the trip, the contact walk, events, enforcement, and the actions.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, api, isAbort, problemText } from '../api';
import type { Bucket, Tenant, Ticket } from '../api';
import { CountsChart } from '../components/CountsChart';
import { EnforcementList } from '../components/Enforcement';
import { useFocusHeading, useNow, usePoll } from '../components/hooks';
import { ProblemAlert } from '../components/Problem';
import { attemptResultWords, channelWords, countdown, eventWords, kindWords, percent, stateWords, utc } from '../format';
import { tenantHref } from '../router';

type ActionId = 'contact-reached' | 'notes' | 'extend' | 'suspend' | 'reject-resolution' | 'resolve' | 'dismiss';
const OPEN = ['notifying', 'engaged', 'awaiting_response', 'suspended', 'resolution_submitted'];

interface ActionDef {
  id: ActionId;
  label: string;
  done: string;
  /** Which text field the API wants, and what the form calls it. */
  text: { key: 'note' | 'text' | 'reason'; label: 'Note' | 'Reason' };
  allowed: (t: Ticket) => boolean;
  danger?: boolean;
}

/** Offered only when the state machine (SPEC §6, packages/domain) would accept them. */
const ACTIONS: ActionDef[] = [
  { id: 'contact-reached', label: 'Contact reached', done: 'Recorded: contact reached', text: { key: 'note', label: 'Note' }, allowed: (t) => t.state === 'notifying' || (t.state === 'suspended' && t.walking) },
  { id: 'notes', label: 'Add note', done: 'Note added', text: { key: 'text', label: 'Note' }, allowed: () => true },
  { id: 'extend', label: 'Extend deadline', done: 'Deadline extended', text: { key: 'reason', label: 'Reason' }, allowed: (t) => t.state === 'engaged' || t.state === 'awaiting_response' },
  {
    id: 'suspend',
    label: 'Suspend now',
    done: 'Outbound mail suspended',
    text: { key: 'reason', label: 'Reason' },
    allowed: (t) => ['notifying', 'engaged', 'awaiting_response', 'resolution_submitted'].includes(t.state) && !t.outboundDisabled,
    danger: true,
  },
  { id: 'reject-resolution', label: 'Reject resolution', done: 'Resolution rejected', text: { key: 'note', label: 'Note' }, allowed: (t) => t.state === 'resolution_submitted' },
  { id: 'resolve', label: 'Resolve', done: 'Ticket resolved', text: { key: 'note', label: 'Note' }, allowed: (t) => OPEN.includes(t.state) },
  { id: 'dismiss', label: 'Dismiss', done: 'Ticket dismissed', text: { key: 'reason', label: 'Reason' }, allowed: (t) => OPEN.includes(t.state) || t.state === 'shadow' },
];

export function TicketView({ number }: { number: string }) {
  const heading = useFocusHeading(number);
  const now = useNow(1000);
  const [ticket, setTicket] = useState<Ticket | null>(null);
  const [tenant, setTenant] = useState<Tenant | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [buckets, setBuckets] = useState<Bucket[] | null>(null);
  const [chartError, setChartError] = useState<unknown>(null);
  const [open, setOpen] = useState<ActionId | null>(null);
  const [message, setMessage] = useState<string | null>(null);

  const load = async (signal?: AbortSignal) => {
    try {
      const t = await api<Ticket>(`/v1/tickets/${encodeURIComponent(number)}`, { signal });
      if (signal?.aborted) return;
      setTicket(t);
      setLoadError(null);
      const tn = await api<Tenant>(`/v1/tenants/${encodeURIComponent(t.tenantId)}`, { signal }).catch((err) => (isAbort(err) ? null : null));
      if (tn && !signal?.aborted) setTenant(tn);
    } catch (err) {
      if (isAbort(err) || signal?.aborted) return;
      setLoadError(err);
    }
  };
  usePoll((signal) => load(signal), 5000, [number]);

  // The chart: the tenant's counts from 15 minutes before the window to 15 minutes after it.
  const windowKey = ticket ? `${ticket.tenantId}|${ticket.evidence.windowStart}|${ticket.evidence.windowEnd}` : '';
  useEffect(() => {
    if (!ticket) return;
    const ctrl = new AbortController();
    const from = new Date(Date.parse(ticket.evidence.windowStart) - 15 * 60_000).toISOString();
    const to = new Date(Date.parse(ticket.evidence.windowEnd) + 15 * 60_000).toISOString();
    api<{ buckets: Bucket[] }>(`/v1/tenants/${encodeURIComponent(ticket.tenantId)}/counts?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`, { signal: ctrl.signal })
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

  if (!ticket) {
    return (
      <main id="main">
        <h1 ref={heading} tabIndex={-1}>
          Ticket {number}
        </h1>
        {loadError ? <ProblemAlert error={loadError} /> : <p class="muted">Loading…</p>}
      </main>
    );
  }

  const t = ticket;
  const e = t.evidence;
  const offered = ACTIONS.filter((a) => a.allowed(t));
  const attempts = [...t.attempts].sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt));

  return (
    <main id="main">
      <div class="page-head">
        <h1 ref={heading} tabIndex={-1}>
          {t.number} — {tenant?.name ?? t.tenantId}
        </h1>
        <p>
          <a href={tenantHref(t.tenantId)}>Tenant {t.tenantId}: contacts, policy and history</a>
        </p>
      </div>
      {loadError ? <p class="stale">Could not refresh this ticket: {problemText(loadError)}</p> : null}
      {t.noContacts ? <p class="warning">This tenant has no contacts</p> : null}

      <section class="card">
        <h2 id="h-summary" class="visually-hidden">
          Summary
        </h2>
        <dl class="facts">
          <div>
            <dt>State</dt>
            <dd>
              <span class={`pill state-${t.state}`}>{stateWords(t.state)}</span>
              {t.walking ? <span class="muted"> · contact walk running</span> : null}
            </dd>
          </div>
          <div>
            <dt>Severity</dt>
            <dd>
              <span class={`pill sev-${t.severity}`}>{t.severity}</span>
            </dd>
          </div>
          <div>
            <dt>Rule</dt>
            <dd>{t.rule}</dd>
          </div>
          <div>
            <dt>Deadline</dt>
            <dd class="countdown">
              {t.open || t.state === 'shadow' ? countdown(t, now) : `closed ${utc(t.closedAt)}`}
              {t.deadlineAt && !t.outboundDisabled ? <span class="muted small"> ({utc(t.deadlineAt)})</span> : null}
            </dd>
          </div>
          <div>
            <dt>Outbound mail</dt>
            <dd>
              {(tenant ? !tenant.outbound.enabled : t.outboundDisabled) ? <strong class="bad">disabled</strong> : <span>enabled</span>}
              {tenant ? <span class="muted small"> since {utc(tenant.outbound.since)}</span> : null}
            </dd>
          </div>
          <div>
            <dt>Opened</dt>
            <dd>{utc(t.openedAt)}</dd>
          </div>
          {t.probationUntil ? (
            <div>
              <dt>Probation until</dt>
              <dd>{utc(t.probationUntil)}</dd>
            </div>
          ) : null}
        </dl>
      </section>

      <section class="card">
        <h2 id="h-actions" tabIndex={-1}>
          Actions
        </h2>
        <div role="status" class="success">
          {message}
        </div>
        <div class="actions" id="ticket-actions">
          {offered.map((a) => (
            <button
              key={a.id}
              type="button"
              id={`action-${a.id}`}
              class={a.danger ? 'danger' : undefined}
              aria-expanded={open === a.id}
              aria-controls={open === a.id ? 'action-form' : undefined}
              onClick={() => {
                setMessage(null);
                setOpen(open === a.id ? null : a.id);
              }}
            >
              {a.label}
            </button>
          ))}
        </div>
        {open ? (
          <ActionForm
            key={open}
            ticket={t}
            action={ACTIONS.find((a) => a.id === open)!}
            onCancel={() => {
              const id = open;
              setOpen(null);
              requestAnimationFrame(() => (document.getElementById(`action-${id}`) ?? document.getElementById('h-actions'))?.focus());
            }}
            onFailed={() => void load()}
            onDone={(updated, text) => {
              setTicket(updated);
              setOpen(null);
              setMessage(text);
              void load();
            }}
          />
        ) : null}
      </section>

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
            <dt>Spam + phish ratio</dt>
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
            from={new Date(Date.parse(e.windowStart) - 15 * 60_000)}
            to={new Date(Date.parse(e.windowEnd) + 15 * 60_000)}
            windowStart={new Date(e.windowStart)}
            windowEnd={new Date(e.windowEnd)}
            buckets={buckets}
          />
        ) : (
          <p class="muted">Loading counts…</p>
        )}
      </section>

      <section class="card">
        <h2 id="h-walk">Contact walk</h2>
        {attempts.length === 0 ? (
          <p class="muted">{t.noContacts ? 'Nobody to contact.' : t.state === 'shadow' ? 'Shadow tickets contact nobody.' : 'No contact attempts yet.'}</p>
        ) : (
          <ol class="timeline">
            {attempts.map((a) => (
              <li key={a.id} class={`attempt result-${(a.outcome ?? a.status).replace(/[^a-z]/g, '')}`}>
                <span class="when">{utc(a.createdAt)}</span>
                <span class="what">
                  <span class="pill">{channelWords(a.channel)}</span> <strong>{kindWords(a.kind)}</strong> to {a.contactName}
                </span>
                <span class="result">{attemptResultWords(a)}</span>
                {a.completedAt ? <span class="muted small">finished {utc(a.completedAt)}</span> : null}
                {a.lastError ? <span class="bad small">error: {a.lastError}</span> : null}
              </li>
            ))}
          </ol>
        )}
      </section>

      {t.resolution ? (
        <section class="card">
          <h2 id="h-resolution">Tenant's resolution</h2>
          <p class="muted">
            Submitted {utc(t.resolution.submittedAt)}
            {t.resolution.contactName ? ` by ${t.resolution.contactName}` : ''}
          </p>
          <blockquote class="resolution">{t.resolution.actionsTaken}</blockquote>
        </section>
      ) : null}

      <section class="card">
        <h2 id="h-events">Events</h2>
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
              {t.events.map((ev) => (
                <tr key={ev.seq}>
                  <td data-label="Time" class="nowrap">{utc(ev.at)}</td>
                  <td data-label="Actor">{ev.actor}</td>
                  <td data-label="What">
                    {eventWords(ev.type)}
                    {ev.fromState && ev.toState && ev.fromState !== ev.toState ? <span class="muted"> ({stateWords(ev.fromState)} → {stateWords(ev.toState)})</span> : null}
                  </td>
                  <td data-label="Reason" class="prewrap">{ev.reason ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>

      <section class="card">
        <h2 id="h-enforcement">Enforcement</h2>
        <EnforcementList events={t.enforcementEvents} />
      </section>
    </main>
  );
}

function ActionForm({ ticket, action, onCancel, onDone, onFailed }: { ticket: Ticket; action: ActionDef; onCancel: () => void; onDone: (t: Ticket, message: string) => void; onFailed: () => void }) {
  const [contactId, setContactId] = useState('');
  const [text, setText] = useState('');
  const [minutes, setMinutes] = useState('30');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const first = useRef<HTMLSelectElement & HTMLInputElement & HTMLTextAreaElement>(null);
  useEffect(() => first.current?.focus(), []);
  const idp = `af-${action.id}`;

  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    if (!text.trim()) {
      setError(new ApiError(400, `Write a ${action.text.label.toLowerCase()} first.`));
      return;
    }
    const body: Record<string, unknown> = { [action.text.key]: text.trim() };
    if (action.id === 'contact-reached' && contactId) body.contactId = contactId;
    if (action.id === 'extend') {
      const m = Number(minutes);
      if (!Number.isInteger(m) || m < 1 || m > 10080) {
        setError(new ApiError(400, 'Minutes must be a whole number from 1 to 10080 (7 days).'));
        return;
      }
      body.minutes = m;
    }
    setBusy(true);
    try {
      const updated = await api<Ticket>(`/v1/tickets/${encodeURIComponent(ticket.id)}/${action.id}`, { method: 'POST', body });
      onDone(updated, action.done);
    } catch (err) {
      setError(err);
      setBusy(false);
      // A refusal usually means the ticket moved on: show its current state and actions.
      if (err instanceof ApiError && err.status === 409) onFailed();
    }
  };

  return (
    <form id="action-form" class="action-form" onSubmit={submit} onKeyDown={(e) => e.key === 'Escape' && onCancel()}>
      <h3 id={`${idp}-title`}>{action.label}</h3>
      {action.id === 'contact-reached' ? (
        <div class="field">
          <label for={`${idp}-contact`}>Contact</label>
          <select id={`${idp}-contact`} ref={first} value={contactId} onChange={(e) => setContactId((e.target as HTMLSelectElement).value)}>
            <option value="">not specified</option>
            {ticket.contacts.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name}
                {c.role === 'tam' ? ' (TAM)' : ''}
              </option>
            ))}
          </select>
        </div>
      ) : null}
      {action.id === 'extend' ? (
        <div class="field">
          <label for={`${idp}-minutes`}>Minutes</label>
          <input id={`${idp}-minutes`} ref={first} type="number" min={1} max={10080} step={1} inputMode="numeric" value={minutes} onInput={(e) => setMinutes((e.target as HTMLInputElement).value)} />
        </div>
      ) : null}
      <div class="field">
        <label for={`${idp}-text`}>{action.text.label}</label>
        <textarea
          id={`${idp}-text`}
          ref={action.id === 'contact-reached' || action.id === 'extend' ? undefined : first}
          rows={3}
          maxLength={5000}
          value={text}
          onInput={(e) => setText((e.target as HTMLTextAreaElement).value)}
          aria-describedby={error ? `${idp}-error` : undefined}
        />
      </div>
      <ProblemAlert error={error} id={`${idp}-error`} />
      <div class="actions">
        <button type="submit" class={action.danger ? 'danger' : 'primary'} disabled={busy}>
          Confirm
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
