// The queue: tickets most urgent first, polled every 5 s, with tabs (open / shadow / closed) and filters.
import type { CallQueue, TenantPage, TicketPage, TicketSummary } from '@abuse-desk/contracts';
import { CLOSED_STATES, OPEN_STATES, SEVERITIES } from '@abuse-desk/contracts/ticket-states';
import { useMemo, useState } from 'preact/hooks';
import { api, isAbort, problemText } from '../api';
import { useFocusHeading, useNow, usePoll } from '../components/hooks';
import { countdown, duration, localHms, stateWords } from '../format';
import { tenantHref, ticketHref } from '../router';

type Tab = 'open' | 'shadow' | 'closed';
const TABS: { id: Tab; label: string; states: readonly string[] }[] = [
  { id: 'open', label: 'Open', states: OPEN_STATES },
  { id: 'shadow', label: 'Shadow', states: ['shadow'] },
  { id: 'closed', label: 'Closed', states: CLOSED_STATES },
];
const POLL_MS = 5000;
const STALE_MS = 20_000;

// Kept across page visits, so coming back from a ticket shows the same tab and filters.
const remembered = { tab: 'open' as Tab, state: '', severity: '', tenant: '' };

/** Signing out forgets them: the next person starts from the open queue. */
export function forgetQueueFilters() {
  Object.assign(remembered, { tab: 'open', state: '', severity: '', tenant: '' });
}

const urgent = (t: TicketSummary) => t.outboundDisabled || t.state === 'suspended' || t.severity === 'critical' || t.severity === 'repeat';

/** Suspended and critical/repeat first, then the soonest deadline, then the newest. */
export function byUrgency(a: TicketSummary, b: TicketSummary): number {
  const u = Number(urgent(b)) - Number(urgent(a));
  if (u) return u;
  const da = a.deadlineAt ? Date.parse(a.deadlineAt) : Infinity;
  const db = b.deadlineAt ? Date.parse(b.deadlineAt) : Infinity;
  if (da !== db) return da < db ? -1 : 1;
  return Date.parse(b.openedAt) - Date.parse(a.openedAt);
}

async function fetchTab(tab: Tab, signal: AbortSignal): Promise<TicketSummary[]> {
  if (tab === 'open') return (await api<TicketPage>('/v1/tickets?state=open&limit=200', { signal })).items;
  if (tab === 'shadow') return (await api<TicketPage>('/v1/tickets?state=shadow&limit=200', { signal })).items;
  const [resolved, dismissed] = await Promise.all([
    api<TicketPage>('/v1/tickets?state=resolved&limit=100', { signal }),
    api<TicketPage>('/v1/tickets?state=dismissed&limit=100', { signal }),
  ]);
  return [...resolved.items, ...dismissed.items].sort((a, b) => Date.parse(b.closedAt ?? b.openedAt) - Date.parse(a.closedAt ?? a.openedAt));
}

export function Queue() {
  const heading = useFocusHeading('queue');
  const now = useNow(1000);
  const [tab, setTab] = useState<Tab>(remembered.tab);
  const [stateFilter, setStateFilter] = useState(remembered.state);
  const [severity, setSeverity] = useState(remembered.severity);
  const [tenantFilter, setTenantFilter] = useState(remembered.tenant);
  const [tickets, setTickets] = useState<TicketSummary[] | null>(null);
  const [names, setNames] = useState<Record<string, string>>({});
  const [updatedAt, setUpdatedAt] = useState<Date | null>(null);
  const [pollError, setPollError] = useState<string | null>(null);
  const [calls, setCalls] = useState<CallQueue | null>(null);
  remembered.tab = tab;
  remembered.state = stateFilter;
  remembered.severity = severity;
  remembered.tenant = tenantFilter;

  usePoll(
    async (signal) => {
      try {
        const [items, tenants, queue] = await Promise.all([
          fetchTab(tab, signal),
          api<TenantPage>('/v1/tenants?limit=500', { signal }).catch(() => null),
          api<CallQueue>('/v1/call-queue', { signal }).catch(() => null),
        ]);
        if (signal.aborted) return;
        setTickets(items);
        setCalls(queue);
        if (tenants) setNames(Object.fromEntries(tenants.items.map((t) => [t.id, t.name])));
        setUpdatedAt(new Date());
        setPollError(null);
      } catch (err) {
        if (isAbort(err) || signal.aborted) return;
        setPollError(problemText(err));
      }
    },
    POLL_MS,
    [tab],
  );

  const switchTab = (next: Tab) => {
    if (next === tab) return;
    setTab(next);
    setStateFilter('');
    setTickets(null);
  };
  const onTabKey = (e: KeyboardEvent) => {
    const i = TABS.findIndex((t) => t.id === tab);
    let j = i;
    if (e.key === 'ArrowRight') j = (i + 1) % TABS.length;
    else if (e.key === 'ArrowLeft') j = (i + TABS.length - 1) % TABS.length;
    else if (e.key === 'Home') j = 0;
    else if (e.key === 'End') j = TABS.length - 1;
    else return;
    e.preventDefault();
    switchTab(TABS[j]!.id);
    document.getElementById(`tab-${TABS[j]!.id}`)?.focus();
  };

  const shown = useMemo(() => {
    const q = tenantFilter.trim().toLowerCase();
    const list = (tickets ?? []).filter(
      (t) => (!stateFilter || t.state === stateFilter) && (!severity || t.severity === severity) && (!q || t.tenantId.toLowerCase().includes(q) || (names[t.tenantId] ?? '').toLowerCase().includes(q)),
    );
    return tab === 'closed' ? list : [...list].sort(byUrgency);
  }, [tickets, stateFilter, severity, tenantFilter, names, tab]);

  const stale = !!pollError || (updatedAt !== null && now - updatedAt.getTime() > STALE_MS);
  const current = TABS.find((t) => t.id === tab)!;

  return (
    <main id="main">
      <div class="page-head">
        <h1 ref={heading} tabIndex={-1}>
          Tickets
        </h1>
        <p class="updated">{updatedAt ? `Updated ${localHms(updatedAt)}` : 'Loading…'}</p>
      </div>
      {calls ? (
        <p class="call-queue" data-testid="call-queue">
          {calls.length === 0
            ? 'No calls waiting.'
            : `${calls.length} call${calls.length === 1 ? '' : 's'} waiting to be placed (oldest ${duration(calls.oldestAgeSeconds * 1000)}), at ${calls.callsPerSecond} call${calls.callsPerSecond === 1 ? '' : 's'} a second.`}
        </p>
      ) : null}
      <div role="status" class={stale ? 'stale' : 'stale-empty'}>
        {stale ? `Stale — last updated ${updatedAt ? localHms(updatedAt) : 'never'}${pollError ? ` (${pollError})` : ''}` : ''}
      </div>

      <div role="tablist" aria-label="Which tickets" class="tabs" onKeyDown={onTabKey}>
        {TABS.map((t) => (
          <button
            key={t.id}
            type="button"
            role="tab"
            id={`tab-${t.id}`}
            aria-selected={tab === t.id}
            aria-controls="queue-panel"
            tabIndex={tab === t.id ? 0 : -1}
            onClick={() => switchTab(t.id)}
          >
            {t.label}
          </button>
        ))}
      </div>

      <div role="tabpanel" id="queue-panel" aria-labelledby={`tab-${tab}`}>
        <form class="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filters">
          <div class="field">
            <label for="f-state">State</label>
            <select id="f-state" value={stateFilter} onChange={(e) => setStateFilter((e.target as HTMLSelectElement).value)}>
              <option value="">Any state</option>
              {current.states.map((s) => (
                <option key={s} value={s}>
                  {stateWords(s)}
                </option>
              ))}
            </select>
          </div>
          <div class="field">
            <label for="f-severity">Severity</label>
            <select id="f-severity" value={severity} onChange={(e) => setSeverity((e.target as HTMLSelectElement).value)}>
              <option value="">Any severity</option>
              {SEVERITIES.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          </div>
          <div class="field">
            <label for="f-tenant">Tenant</label>
            <input id="f-tenant" type="search" value={tenantFilter} onInput={(e) => setTenantFilter((e.target as HTMLInputElement).value)} />
          </div>
        </form>

        {tickets === null ? (
          pollError ? null : <p class="muted">Loading tickets…</p>
        ) : shown.length === 0 ? (
          <p class="empty">{tickets.length === 0 ? `No ${current.label.toLowerCase()} tickets.` : 'No tickets match these filters.'}</p>
        ) : (
          <div class="table-wrap">
            <table class="queue stack">
              <caption class="visually-hidden">
                {current.label} tickets{tab === 'closed' ? ', most recently closed first' : ', most urgent first'}
              </caption>
              <thead>
                <tr>
                  <th scope="col">Ticket</th>
                  <th scope="col">Tenant</th>
                  <th scope="col">State</th>
                  <th scope="col">Severity</th>
                  <th scope="col">Age</th>
                  <th scope="col">{tab === 'closed' ? 'Closed' : 'Deadline'}</th>
                </tr>
              </thead>
              <tbody>
                {shown.map((t) => (
                  <tr key={t.id} class={urgent(t) && t.open ? 'urgent' : undefined}>
                    <td data-label="Ticket">
                      <a href={ticketHref(t.number)} class="ticket-link">
                        {t.number}
                      </a>
                      <span class="muted"> {t.rule}</span>
                    </td>
                    <td data-label="Tenant">
                      <a href={tenantHref(t.tenantId)}>{names[t.tenantId] ?? t.tenantId}</a>
                      {names[t.tenantId] ? <span class="muted small"> {t.tenantId}</span> : null}
                    </td>
                    <td data-label="State">
                      <span class={`pill state-${t.state}`}>{stateWords(t.state)}</span>
                    </td>
                    <td data-label="Severity">
                      <span class={`pill sev-${t.severity}`}>{t.severity}</span>
                    </td>
                    <td data-label="Age">{duration(now - Date.parse(t.openedAt))}</td>
                    <td data-label={tab === 'closed' ? 'Closed' : 'Deadline'} class="countdown">
                      {tab === 'closed' ? (t.closedAt ? `${duration(now - Date.parse(t.closedAt))} ago` : '—') : countdown(t, now)}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>
    </main>
  );
}
