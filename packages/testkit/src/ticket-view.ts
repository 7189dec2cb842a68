// The ticket every email and call-script test renders (channels' TicketView, SPEC §8): ABU-000042 of Acme
// Hosting, tripped by spam, still notifying, with a deadline at 15:05 UTC. testkit cannot import channels
// (channels' tests import testkit), so the shape is the value's own; channels' tests check it against
// TicketView wherever they pass it to renderEmail or callScript.
import type { Rule, Severity } from '@abuse-desk/contracts';

function sample() {
  return {
    number: 'ABU-000042',
    tenantId: 'acme-prod',
    tenantName: 'Acme Hosting',
    state: 'notifying' as string,
    severity: 'normal' as Severity,
    rule: 'spam' as Rule,
    evidence: {
      windowSeconds: 600,
      windowStart: '2025-01-02T13:50:00.000Z',
      windowEnd: '2025-01-02T14:00:00.000Z',
      counts: { spam: 600, phish: 20, virus: 0, clean: 4380 },
      total: 5000,
      ratio: 0.124,
      topSenders: [{ sender: 'newsletter@acme.example', count: 540 }],
    },
    deadlineAt: new Date('2025-01-02T15:05:00.000Z') as Date | null,
    outboundDisabled: false,
    resolutionUrl: 'https://abuse.example.net/resolve/Zm9vYmFyYmF6cXV4',
    acknowledgedBy: null as string | null,
    acknowledgedHow: null as string | null,
    ackCode: null as string | null,
    suspension: null as { automated: boolean; grounds: string } | null,
  };
}

export type SampleTicketView = ReturnType<typeof sample>;

/** Fields to change; `evidence` is merged into the sample's evidence. */
export type TicketViewOverrides = Partial<Omit<SampleTicketView, 'evidence'>> & { evidence?: Partial<SampleTicketView['evidence']> };

/** A fresh copy of the sample ticket with `over` applied. */
export function ticketView(over: TicketViewOverrides = {}): SampleTicketView {
  const base = sample();
  return { ...base, ...over, evidence: { ...base.evidence, ...over.evidence } };
}
