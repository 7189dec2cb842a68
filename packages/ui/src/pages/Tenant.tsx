// A tenant: outbound status, the ordered contact list (editable, admin only), policy, probation, tickets, events.
import type { OutboundStatus, TenantPolicyView, TenantView as Tenant, TicketPage, TicketSummary } from '@abuse-desk/contracts';
import { useEffect, useState } from 'preact/hooks';
import { api, isAbort } from '../api';
import { ContactsEditor } from '../components/ContactsEditor';
import { EnforcementList } from '../components/Enforcement';
import { EventTable } from '../components/EventTable';
import { useFocusHeading } from '../components/hooks';
import { ProblemAlert } from '../components/Problem';
import { TicketTable } from '../components/TicketTable';
import { stateWords, utc } from '../format';
import { ticketHref } from '../router';

export function TenantView({ tenantId }: { tenantId: string }) {
  const heading = useFocusHeading(tenantId);
  const [tenant, setTenant] = useState<Tenant | null>(null);
  const [outbound, setOutbound] = useState<OutboundStatus | null>(null);
  const [policy, setPolicy] = useState<TenantPolicyView | null>(null);
  const [tickets, setTickets] = useState<TicketSummary[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [partError, setPartError] = useState<unknown>(null);

  const load = async (signal?: AbortSignal) => {
    const id = encodeURIComponent(tenantId);
    try {
      const t = await api<Tenant>(`/v1/tenants/${id}`, { signal });
      setTenant(t);
      setError(null);
    } catch (err) {
      if (!isAbort(err)) setError(err);
      return;
    }
    const results = await Promise.allSettled([
      api<OutboundStatus>(`/v1/tenants/${id}/outbound`, { signal }).then(setOutbound),
      api<TenantPolicyView>(`/v1/tenants/${id}/policy`, { signal }).then(setPolicy),
      api<TicketPage>(`/v1/tickets?tenantId=${id}&limit=50`, { signal }).then((p) => setTickets(p.items)),
    ]);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected' && !isAbort(r.reason));
    setPartError(failed ? failed.reason : null);
  };
  useEffect(() => {
    const ctrl = new AbortController();
    void load(ctrl.signal);
    return () => ctrl.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [tenantId]);

  if (!tenant) {
    return (
      <main id="main">
        <h1 ref={heading} tabIndex={-1}>
          Tenant {tenantId}
        </h1>
        {error ? <ProblemAlert error={error} /> : <p class="muted">Loading…</p>}
      </main>
    );
  }

  return (
    <main id="main">
      <div class="page-head">
        <h1 ref={heading} tabIndex={-1}>
          {tenant.name}
        </h1>
        <p class="muted">Tenant {tenant.id}</p>
      </div>
      {tenant.notes ? <p class="prewrap">{tenant.notes}</p> : null}
      {partError ? <ProblemAlert error={partError} /> : null}

      <section class="card">
        <h2 id="h-outbound">Outbound mail</h2>
        {outbound ? (
          <p>
            {outbound.enabled ? <strong class="good">Enabled</strong> : <strong class="bad">Disabled</strong>} since {utc(outbound.since)}
            {outbound.ticketNumber ? (
              <>
                {' '}
                by <a href={ticketHref(outbound.ticketNumber)}>{outbound.ticketNumber}</a>
              </>
            ) : null}
          </p>
        ) : (
          <p class="muted">Loading…</p>
        )}
        {tenant.openTicket ? (
          <p>
            Open ticket: <a href={ticketHref(tenant.openTicket.number)}>{tenant.openTicket.number}</a> ({stateWords(tenant.openTicket.state)})
          </p>
        ) : (
          <p class="muted">No open ticket.</p>
        )}
        <p>
          Probation:{' '}
          {tenant.probation
            ? `${tenant.probation.active ? 'active' : 'ended'} — since ${utc(tenant.probation.since)}, until ${utc(tenant.probation.until)}`
            : 'none'}
        </p>
      </section>

      <ContactsEditor tenantId={tenant.id} initial={tenant.contacts} />

      <section class="card">
        <h2 id="h-policy">Policy</h2>
        {policy ? (
          <>
            {policy.override ? (
              <div class={policy.override.expired ? 'muted' : 'notice'}>
                <p>
                  <strong>Override{policy.override.expired ? ' (expired)' : ''}</strong> set by {policy.override.setBy} at {utc(policy.override.setAt)}
                  {policy.override.expiresAt ? `, expires ${utc(policy.override.expiresAt)}` : ', no expiry'}. Reason: {policy.override.reason}
                </p>
                <pre>{JSON.stringify(policy.override.policy, null, 2)}</pre>
              </div>
            ) : (
              <p>No override: the default policy applies.</p>
            )}
            <h3>In force</h3>
            <PolicyFacts policy={policy.effective} />
          </>
        ) : (
          <p class="muted">Loading…</p>
        )}
      </section>

      <section class="card">
        <h2 id="h-tickets">Tickets</h2>
        {tickets === null ? (
          <p class="muted">Loading…</p>
        ) : tickets.length === 0 ? (
          <p class="muted">No tickets.</p>
        ) : (
          <TicketTable tickets={tickets} />
        )}
      </section>

      <section class="card">
        <h2 id="h-enforcement">Enforcement</h2>
        <EnforcementList events={tenant.enforcementEvents} />
      </section>

      <section class="card">
        <h2 id="h-tenant-events">Tenant events</h2>
        {tenant.events.length === 0 ? (
          <p class="muted">No tenant events.</p>
        ) : (
          <EventTable events={tenant.events} />
        )}
      </section>
    </main>
  );
}

function flatten(obj: Record<string, unknown>, prefix = ''): [string, string][] {
  return Object.entries(obj).flatMap(([k, v]) =>
    v && typeof v === 'object' && !Array.isArray(v) ? flatten(v as Record<string, unknown>, `${prefix}${k}.`) : [[`${prefix}${k}`, String(v)] as [string, string]],
  );
}

function PolicyFacts({ policy }: { policy: Record<string, unknown> }) {
  return (
    <dl class="facts">
      {flatten(policy).map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}
