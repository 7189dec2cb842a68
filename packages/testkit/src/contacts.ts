// The contact list most tests give a tenant (SPEC §7): two contacts with phones, Alice first, and a
// technical account manager who is briefed by email. A test changes or drops any of the three.
import type { Contact } from '@abuse-desk/contracts';

export const ALICE: Contact = { name: 'Alice Admin', phone: '+14155550101', email: 'alice@tenant.example', role: 'contact', timezone: 'Europe/Berlin' };
export const BOB: Contact = { name: 'Bob Backup', phone: '+14155550102', email: 'bob@tenant.example', role: 'contact' };
export const TAM: Contact = { name: 'Tara TAM', email: 'tara@platform.example', role: 'tam', preferredChannel: 'email' };

/** Fields to change in each entry (a field set to undefined is removed), or null to leave the entry out. */
export interface ContactListOverrides {
  alice?: Partial<Contact> | null;
  bob?: Partial<Contact> | null;
  tam?: Partial<Contact> | null;
}

function withOverrides(base: Contact, over: Partial<Contact> | undefined): Contact {
  const merged: Record<string, unknown> = { ...base, ...over };
  for (const key of Object.keys(merged)) if (merged[key] === undefined) delete merged[key];
  return merged as Contact;
}

/** Alice, Bob and the TAM, in the order they are walked; see ContactListOverrides. */
export function contactList(over: ContactListOverrides = {}): Contact[] {
  const entries: [Contact, Partial<Contact> | null | undefined][] = [
    [ALICE, over.alice],
    [BOB, over.bob],
    [TAM, over.tam],
  ];
  return entries.filter(([, o]) => o !== null).map(([base, o]) => withOverrides(base, o ?? undefined));
}
