// The ticket lifecycle's names (SPEC §6) as plain constants, without zod, so the UI can import them
// (`@abuse-desk/contracts/ticket-states`) without bundling the schemas.

export const TICKET_STATES = ['notifying', 'engaged', 'awaiting_response', 'suspended', 'resolution_submitted', 'resolved', 'dismissed', 'shadow'] as const;
export type TicketState = (typeof TICKET_STATES)[number];
export const OPEN_STATES: readonly TicketState[] = ['notifying', 'engaged', 'awaiting_response', 'suspended', 'resolution_submitted'];
/** States in which a resolution deadline runs. */
export const DEADLINE_STATES: readonly TicketState[] = ['engaged', 'awaiting_response'];
export const CLOSED_STATES: readonly TicketState[] = ['resolved', 'dismissed'];
export const SEVERITIES = ['normal', 'critical', 'repeat'] as const;
export type Severity = (typeof SEVERITIES)[number];
export const RULES = ['spam', 'virus', 'surge', 'complaints'] as const;
export type Rule = (typeof RULES)[number];

/** The agent actions, as they appear in POST /v1/tickets/{id}/{action}. */
export const TICKET_ACTIONS = ['contact-reached', 'notes', 'extend', 'suspend', 'reject-resolution', 'resolve', 'dismiss'] as const;
export type TicketAction = (typeof TICKET_ACTIONS)[number];
