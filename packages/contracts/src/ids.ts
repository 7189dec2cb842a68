// The identifiers that cross every edge: a tenant's id (SPEC §4) and a ticket's number (SPEC §6).
import { z } from 'zod';

export const TenantId = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9._:-]+$/, 'must be 1–128 characters of A–Z a–z 0–9 . _ : -')
  // In a URL path "." and ".." are not names but steps: /v1/tenants/.. is /v1/, and no browser opens it.
  .refine((s) => s !== '.' && s !== '..', 'must not be "." or ".."');

export const TicketNumber = z.string().regex(/^ABU-\d{6,}$/, 'must look like ABU-000042');

/** An instant as the API writes it: RFC 3339 in UTC (`Date.prototype.toISOString`). */
export const Instant = z.iso.datetime();
