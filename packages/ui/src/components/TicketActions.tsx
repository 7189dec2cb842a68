// The agent's actions on a ticket: which are offered, and the form that sends one.
import type { TicketAction, TicketDetail } from '@abuse-desk/contracts';
import { DEADLINE_STATES, OPEN_STATES } from '@abuse-desk/contracts/ticket-states';
import type { TicketState } from '@abuse-desk/contracts/ticket-states';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, api } from '../api';
import { ProblemAlert } from './Problem';

interface ActionDef {
  id: TicketAction;
  label: string;
  done: string;
  /** Which text field the API wants, and what the form calls it. */
  text: { key: 'note' | 'text' | 'reason'; label: 'Note' | 'Reason'; hint?: string };
  /** Used only when the API does not say (`allowedActions` absent): the state machine's rule, restated. */
  allowed: (t: TicketDetail) => boolean;
  danger?: boolean;
}

const isIn = (states: readonly TicketState[], state: string) => (states as readonly string[]).includes(state);

const ACTIONS: ActionDef[] = [
  { id: 'contact-reached', label: 'Contact reached', done: 'Recorded: contact reached', text: { key: 'note', label: 'Note' }, allowed: (t) => t.state === 'notifying' || (t.state === 'suspended' && t.walking) },
  { id: 'notes', label: 'Add note', done: 'Note added', text: { key: 'text', label: 'Note' }, allowed: () => true },
  { id: 'extend', label: 'Extend deadline', done: 'Deadline extended', text: { key: 'reason', label: 'Reason' }, allowed: (t) => isIn(DEADLINE_STATES, t.state) },
  {
    id: 'suspend',
    label: 'Suspend now',
    done: 'Outbound mail suspended',
    text: { key: 'reason', label: 'Reason', hint: 'Quoted to the tenant’s contacts in the suspension notice.' },
    allowed: (t) => isIn(OPEN_STATES, t.state) && t.state !== 'suspended' && !t.outboundDisabled,
    danger: true,
  },
  { id: 'reject-resolution', label: 'Reject resolution', done: 'Resolution rejected', text: { key: 'note', label: 'Note' }, allowed: (t) => t.state === 'resolution_submitted' },
  { id: 'resolve', label: 'Resolve', done: 'Ticket resolved', text: { key: 'note', label: 'Note' }, allowed: (t) => isIn(OPEN_STATES, t.state) },
  { id: 'dismiss', label: 'Dismiss', done: 'Ticket dismissed', text: { key: 'reason', label: 'Reason' }, allowed: (t) => isIn(OPEN_STATES, t.state) || t.state === 'shadow' },
];

/**
 * The actions offered on a ticket. The API's `allowedActions` (the domain's answer) decides when the reply
 * carries it; otherwise the UI falls back to its own reading of the state machine (SPEC §6).
 */
export function offeredActions(t: TicketDetail): ActionDef[] {
  const allowed = t.allowedActions;
  return allowed ? ACTIONS.filter((a) => allowed.includes(a.id)) : ACTIONS.filter((a) => a.allowed(t));
}

/** The actions card: a button per offered action, the form of the one chosen, and what the last one did. */
export function TicketActions({ ticket, onUpdated, onRefused }: { ticket: TicketDetail; onUpdated: (t: TicketDetail) => void; onRefused: () => void }) {
  const [open, setOpen] = useState<TicketAction | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const action = open ? ACTIONS.find((a) => a.id === open) : undefined;
  return (
    <section class="card">
      <h2 id="h-actions" tabIndex={-1}>
        Actions
      </h2>
      <div role="status" class="success">
        {message}
      </div>
      <div class="actions" id="ticket-actions">
        {offeredActions(ticket).map((a) => (
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
      {action ? (
        <ActionForm
          key={action.id}
          ticket={ticket}
          action={action}
          onCancel={() => {
            const id = action.id;
            setOpen(null);
            requestAnimationFrame(() => (document.getElementById(`action-${id}`) ?? document.getElementById('h-actions'))?.focus());
          }}
          onFailed={onRefused}
          onDone={(updated, text) => {
            setOpen(null);
            setMessage(text);
            onUpdated(updated);
          }}
        />
      ) : null}
    </section>
  );
}

function ActionForm({ ticket, action, onCancel, onDone, onFailed }: { ticket: TicketDetail; action: ActionDef; onCancel: () => void; onDone: (t: TicketDetail, message: string) => void; onFailed: () => void }) {
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
      const updated = await api<TicketDetail>(`/v1/tickets/${encodeURIComponent(ticket.id)}/${action.id}`, { method: 'POST', body });
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
          aria-describedby={[action.text.hint ? `${idp}-hint` : '', error ? `${idp}-error` : ''].filter(Boolean).join(' ') || undefined}
        />
        {action.text.hint ? (
          <p id={`${idp}-hint`} class="muted small">
            {action.text.hint}
          </p>
        ) : null}
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
