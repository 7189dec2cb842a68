// Tickets, contacts and trips for the engine's unit tests (no database): a typical ticket in each state,
// as the store would load it.
import type { TicketState } from '@abuse-desk/contracts';
import type { EngineContext, Evidence, TicketSnapshot } from './ticket.js';
import type { Trip } from './policy.js';
import type { WalkContact } from './walk.js';

export const NOW = new Date('2026-11-22T10:15:00.000Z');
export const TIMEOUT_SECONDS = 3600;
export const minutesAfter = (d: Date, minutes: number) => new Date(d.getTime() + minutes * 60_000);

export const ctx = (over: Partial<EngineContext> = {}): EngineContext => ({ now: NOW, resolutionTimeoutSeconds: TIMEOUT_SECONDS, actor: 'agent:dana', policy: { mode: 'enforce' }, ...over });

const person = (id: string, role: WalkContact['role'], over: Partial<WalkContact> = {}): WalkContact => ({
  id,
  name: id[0]!.toUpperCase() + id.slice(1),
  phone: `+1415555${String(id.length).padStart(4, '0')}`,
  email: `${id}@tenant.example`,
  role,
  preferredChannel: null,
  timezone: null,
  ...over,
});

/** Two contacts to call in order and a TAM who prefers email. */
export const CONTACTS: WalkContact[] = [person('alice', 'contact'), person('bob', 'contact', { phone: '+14155550102' }), person('tina', 'tam')];

export const TRIP: Trip = {
  rule: 'spam',
  severity: 'normal',
  windowSeconds: 600,
  counts: { spam: 80, phish: 0, virus: 0, clean: 20 },
  total: 100,
  ratio: 0.8,
  thresholds: { minSpam: 50, minSpamRatio: 0.05 },
  suspendAtOnce: false,
};

export const EVIDENCE: Evidence = {
  rule: 'spam',
  windowSeconds: 600,
  windowStart: '2026-11-22T10:05:00.000Z',
  windowEnd: '2026-11-22T10:15:00.000Z',
  counts: TRIP.counts,
  total: 100,
  ratio: 0.8,
  thresholds: TRIP.thresholds,
  topSenders: [{ sender: 'billing@acme.example', count: 80 }],
};

export const tripEvent = (over: Partial<Trip> = {}, contacts = CONTACTS) => ({ type: 'trip' as const, tenantId: 'acme', trip: { ...TRIP, ...over }, evidence: EVIDENCE, contacts });

/** A ticket in `state` as it really looks there (a deadline running where one runs, mail off when suspended). */
export function ticketIn(state: TicketState, over: Partial<TicketSnapshot> = {}): TicketSnapshot {
  const base: TicketSnapshot = {
    tenantId: 'acme',
    state,
    severity: 'normal',
    rule: 'spam',
    evidence: EVIDENCE,
    contacts: CONTACTS,
    noContacts: false,
    walkPosition: 0,
    walking: state === 'notifying',
    deadlineAt: state === 'engaged' || state === 'awaiting_response' ? minutesAfter(NOW, -10) : null,
    stateBeforeResolution: state === 'resolution_submitted' ? 'engaged' : null,
    outboundDisabled: state === 'suspended',
    resolution: state === 'resolution_submitted' ? { actionsTaken: 'we locked the account', contactName: null, submittedAt: minutesAfter(NOW, -5) } : null,
    tripCount: 1,
    lastTripAt: minutesAfter(NOW, -30),
    eventSeq: 3,
    openedAt: minutesAfter(NOW, -30),
    closedAt: state === 'resolved' || state === 'dismissed' ? minutesAfter(NOW, -1) : null,
  };
  return { ...base, ...over };
}
