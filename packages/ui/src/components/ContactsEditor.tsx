// A tenant's contact list editor: one fieldset per contact, reordered, added and removed in place, saved as a
// whole with PUT (admin token needed); the API's field errors are shown by their fields.
import type { ContactListReply, ContactView } from '@abuse-desk/contracts';
import { useState } from 'preact/hooks';
import { ApiError, api } from '../api';
import { ProblemAlert } from './Problem';

interface Row {
  key: string;
  name: string;
  phone: string;
  email: string;
  role: 'contact' | 'tam';
  preferredChannel: '' | 'phone' | 'email' | 'sms';
  timezone: string;
}
const FIELDS = ['name', 'phone', 'email', 'role', 'preferredChannel', 'timezone'] as const;
type Field = (typeof FIELDS)[number];

let nextKey = 1;
const toRow = (c: ContactView): Row => ({
  key: `k${nextKey++}`,
  name: c.name,
  phone: c.phone ?? '',
  email: c.email ?? '',
  role: c.role,
  preferredChannel: c.preferredChannel ?? '',
  timezone: c.timezone ?? '',
});
const emptyRow = (): Row => ({ key: `k${nextKey++}`, name: '', phone: '', email: '', role: 'contact', preferredChannel: '', timezone: '' });

/** Only non-empty optional fields are sent, as the API's schema wants them absent rather than blank. */
function toBody(r: Row) {
  const body: Record<string, string> = { name: r.name.trim(), role: r.role };
  if (r.phone.trim()) body.phone = r.phone.trim();
  if (r.email.trim()) body.email = r.email.trim();
  if (r.preferredChannel) body.preferredChannel = r.preferredChannel;
  if (r.timezone.trim()) body.timezone = r.timezone.trim();
  return body;
}

export function ContactsEditor({ tenantId, initial }: { tenantId: string; initial: ContactView[] }) {
  const [rows, setRows] = useState<Row[]>(() => initial.map(toRow));
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const focusLater = (id: string) => requestAnimationFrame(() => document.getElementById(id)?.focus());
  const update = (key: string, field: Field, value: string) => {
    setRows((rs) => rs.map((r) => (r.key === key ? { ...r, [field]: value } : r)));
    setSaved(null);
  };
  const structural = (next: Row[]) => {
    setRows(next);
    setFieldErrors({});
    setSaved(null);
  };
  const move = (i: number, by: -1 | 1) => {
    const j = i + by;
    if (j < 0 || j >= rows.length) return;
    const next = [...rows];
    [next[i], next[j]] = [next[j]!, next[i]!];
    structural(next);
    const key = rows[i]!.key;
    const still = by === -1 ? j > 0 : j < rows.length - 1;
    focusLater(`c-${key}-${still ? (by === -1 ? 'up' : 'down') : by === -1 ? 'down' : 'up'}`);
  };
  const remove = (i: number) => {
    const next = rows.filter((_, k) => k !== i);
    structural(next);
    const neighbour = next[Math.min(i, next.length - 1)];
    focusLater(neighbour ? `c-${neighbour.key}-name` : 'add-contact');
  };
  const add = () => {
    const r = emptyRow();
    structural([...rows, r]);
    focusLater(`c-${r.key}-name`);
  };

  const save = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setFieldErrors({});
    setSaved(null);
    try {
      const res = await api<ContactListReply>(`/v1/tenants/${encodeURIComponent(tenantId)}/contacts`, { method: 'PUT', body: rows.map(toBody) });
      setRows(res.contacts.map(toRow));
      setSaved('Contacts saved');
    } catch (err) {
      setError(err);
      if (err instanceof ApiError && err.errors.length > 0) {
        // Field errors look like `body.0.phone`: the contact's index, then its field.
        const map: Record<string, string> = {};
        for (const fe of err.errors) {
          const m = /^body\.(\d+)\.(\w+)/.exec(fe.field);
          const row = m ? rows[Number(m[1])] : undefined;
          if (row && (FIELDS as readonly string[]).includes(m![2]!)) {
            const id = `c-${row.key}-${m![2]}`;
            map[id] = map[id] ? `${map[id]}; ${fe.message}` : fe.message;
          }
        }
        setFieldErrors(map);
        // Messages shown by their fields are not repeated at the top; anything else is.
        const unplaced = err.errors.filter((fe) => {
          const m = /^body\.(\d+)\.(\w+)/.exec(fe.field);
          return !(m && rows[Number(m[1])] && (FIELDS as readonly string[]).includes(m[2]!));
        });
        setError(new ApiError(err.status, unplaced.length ? unplaced.map((fe) => `${fe.field.replace(/^body\.?/, '') || 'list'}: ${fe.message}`).join('; ') : 'The contacts were not saved: correct the fields marked above.'));
        const firstBad = Object.keys(map)[0];
        if (firstBad) focusLater(firstBad);
      }
    } finally {
      setBusy(false);
    }
  };

  const errorOf = (id: string) => fieldErrors[id];
  const describe = (id: string) => (errorOf(id) ? { 'aria-describedby': `${id}-error`, 'aria-invalid': 'true' as const } : {});
  const fieldError = (id: string) =>
    errorOf(id) ? (
      <p class="field-error" id={`${id}-error`} role="alert">
        {errorOf(id)}
      </p>
    ) : null;

  return (
    <section class="card">
      <h2 id="h-contacts">Contacts</h2>
      <p class="muted">Walked in this order; the TAM is briefed at the start. Saving replaces the whole list (admin token needed). A changed list applies to the next ticket.</p>
      <form onSubmit={save} noValidate>
        {rows.length === 0 ? <p class="warning">This tenant has no contacts</p> : null}
        {rows.map((r, i) => {
          const id = (f: string) => `c-${r.key}-${f}`;
          return (
            <fieldset key={r.key} class="contact">
              <legend>Contact {i + 1}</legend>
              <div class="grid">
                <div class="field">
                  <label for={id('name')}>Name</label>
                  <input id={id('name')} value={r.name} autoComplete="off" onInput={(e) => update(r.key, 'name', (e.target as HTMLInputElement).value)} {...describe(id('name'))} />
                  {fieldError(id('name'))}
                </div>
                <div class="field">
                  <label for={id('phone')}>Phone</label>
                  <input id={id('phone')} type="tel" value={r.phone} placeholder="e.g. +14155550100" autoComplete="off" onInput={(e) => update(r.key, 'phone', (e.target as HTMLInputElement).value)} {...describe(id('phone'))} />
                  {fieldError(id('phone'))}
                </div>
                <div class="field">
                  <label for={id('email')}>Email</label>
                  <input id={id('email')} type="email" value={r.email} autoComplete="off" onInput={(e) => update(r.key, 'email', (e.target as HTMLInputElement).value)} {...describe(id('email'))} />
                  {fieldError(id('email'))}
                </div>
                <div class="field">
                  <label for={id('role')}>Role</label>
                  <select id={id('role')} value={r.role} onChange={(e) => update(r.key, 'role', (e.target as HTMLSelectElement).value)} {...describe(id('role'))}>
                    <option value="contact">contact</option>
                    <option value="tam">tam</option>
                  </select>
                  {fieldError(id('role'))}
                </div>
                <div class="field">
                  <label for={id('preferredChannel')}>Preferred channel</label>
                  <select id={id('preferredChannel')} value={r.preferredChannel} onChange={(e) => update(r.key, 'preferredChannel', (e.target as HTMLSelectElement).value)} {...describe(id('preferredChannel'))}>
                    <option value="">none</option>
                    <option value="phone">phone</option>
                    <option value="email">email</option>
                    <option value="sms">SMS (texted instead of called)</option>
                  </select>
                  {fieldError(id('preferredChannel'))}
                </div>
                <div class="field">
                  <label for={id('timezone')}>Time zone</label>
                  <input id={id('timezone')} value={r.timezone} placeholder="e.g. Europe/Berlin" autoComplete="off" onInput={(e) => update(r.key, 'timezone', (e.target as HTMLInputElement).value)} {...describe(id('timezone'))} />
                  {fieldError(id('timezone'))}
                </div>
              </div>
              <div class="actions">
                <button type="button" id={id('up')} disabled={i === 0} onClick={() => move(i, -1)}>
                  Move up
                </button>
                <button type="button" id={id('down')} disabled={i === rows.length - 1} onClick={() => move(i, 1)}>
                  Move down
                </button>
                <button type="button" class="danger" onClick={() => remove(i)}>
                  Remove
                </button>
              </div>
            </fieldset>
          );
        })}
        <ProblemAlert error={error} />
        <div role="status" class="success">
          {saved}
        </div>
        <div class="actions">
          <button type="button" id="add-contact" onClick={add}>
            Add contact
          </button>
          <button type="submit" class="primary" disabled={busy}>
            Save contacts
          </button>
        </div>
      </form>
    </section>
  );
}
