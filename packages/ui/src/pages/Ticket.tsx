// One ticket: what tripped, the chart around the trip, the contact walk, events, enforcement, and the actions.
import type { TenantView, TicketDetail } from '@abuse-desk/contracts';
import { useState } from 'preact/hooks';
import { api, isAbort, problemText } from '../api';
import { ContactWalk } from '../components/ContactWalk';
import { EnforcementList } from '../components/Enforcement';
import { EventTable } from '../components/EventTable';
import { EvidenceCard } from '../components/Evidence';
import { useFocusHeading, useNow, usePoll } from '../components/hooks';
import { ProblemAlert } from '../components/Problem';
import { TicketActions } from '../components/TicketActions';
import { countdown, stateWords, utc } from '../format';
import { tenantHref } from '../router';

export function TicketView({ number }: { number: string }) {
  const heading = useFocusHeading(number);
  const now = useNow(1000);
  const [ticket, setTicket] = useState<TicketDetail | null>(null);
  const [tenant, setTenant] = useState<TenantView | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);

  const load = async (signal?: AbortSignal) => {
    try {
      const t = await api<TicketDetail>(`/v1/tickets/${encodeURIComponent(number)}`, { signal });
      if (signal?.aborted) return;
      setTicket(t);
      setLoadError(null);
      const tn = await api<TenantView>(`/v1/tenants/${encodeURIComponent(t.tenantId)}`, { signal }).catch((err) => (isAbort(err) ? null : null));
      if (tn && !signal?.aborted) setTenant(tn);
    } catch (err) {
      if (isAbort(err) || signal?.aborted) return;
      setLoadError(err);
    }
  };
  usePoll((signal) => load(signal), 5000, [number]);

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

      <TicketActions
        ticket={t}
        onRefused={() => void load()}
        onUpdated={(updated) => {
          setTicket(updated);
          void load();
        }}
      />

      <EvidenceCard ticket={t} />

      <section class="card">
        <h2 id="h-walk">Contact walk</h2>
        <ContactWalk ticket={t} />
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
        <EventTable events={t.events} />
      </section>

      <section class="card">
        <h2 id="h-enforcement">Enforcement</h2>
        <EnforcementList events={t.enforcementEvents} />
      </section>
    </main>
  );
}
