// Why outbound mail was disabled, as the suspension notice states it to the tenant: the grounds, and whether
// the decision was automated or taken by a person — a statement of reasons in the sense of EU DSA Art. 17,
// which a hosting provider restricting a service owes its customer (the appeal is the resolution page).

/** The ticket event that moved the ticket to `suspended`: its type (the command) and the reason recorded with it. */
export interface SuspensionEvent {
  type: string;
  reason: string | null;
}

export interface SuspensionGrounds {
  /** true: the rules decided without a person (the deadline passed, a rule that suspends at once). */
  automated: boolean;
  /** In words, for the tenant. */
  grounds: string;
}

/** The commands that suspend a ticket (its event has their type): the timer, a rule at once, an agent. */
export const SUSPENDING_EVENTS = ['deadline_passed', 'suspend_on_open', 'suspend'] as const;

export function suspensionGrounds(e: SuspensionEvent): SuspensionGrounds {
  switch (e.type) {
    case 'deadline_passed':
      return { automated: true, grounds: 'no fix was reported before the deadline' };
    case 'suspend_on_open':
      return { automated: true, grounds: e.reason ?? 'the rule that tripped disables outbound mail at once' };
    default:
      // An agent's "suspend now": the reason they gave is quoted (the UI says so).
      return { automated: false, grounds: e.reason?.trim() || 'a support agent stopped the abuse at once' };
  }
}
