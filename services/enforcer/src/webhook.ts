// Enforcement events to ENFORCEMENT_WEBHOOK_URL (SPEC §9): the event's JSON as the body, signed with
// `X-Abuse-Desk-Signature: sha256=<hex HMAC-SHA256 of the body>`; only a 2xx answer counts as delivered.
import { createHmac } from 'node:crypto';
import type { Config } from '@abuse-desk/config';
import type { Deliverer } from './publisher.js';

export const signBody = (secret: string, body: string) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

export function createWebhookDeliverer(webhook: NonNullable<Config['enforcementWebhook']>, timeoutMs = 5000): Deliverer {
  return {
    destination: 'webhook',
    // One request per event; the publisher hands over at most one event per tenant, so they can go
    // out together without breaking a tenant's order.
    deliver: async (events) => {
      const results = await Promise.all(
        events.map(async (e): Promise<{ id: string; error?: string }> => {
          const body = JSON.stringify(e.payload);
          try {
            const res = await fetch(webhook.url, {
              method: 'POST',
              headers: { 'content-type': 'application/json', 'x-abuse-desk-signature': signBody(webhook.secret, body), 'x-abuse-desk-event-id': e.event_id },
              body,
              signal: AbortSignal.timeout(timeoutMs),
            });
            await res.arrayBuffer().catch(() => undefined);
            return res.ok ? { id: e.event_id } : { id: e.event_id, error: `HTTP ${res.status}` };
          } catch (err) {
            const cause = (err as { cause?: { code?: string } }).cause?.code;
            return { id: e.event_id, error: `${(err as Error).name === 'TimeoutError' ? `timed out after ${timeoutMs} ms` : (err as Error).message}${cause ? ` (${cause})` : ''}` };
          }
        }),
      );
      return {
        delivered: results.filter((r) => r.error === undefined).map((r) => r.id),
        failed: results.flatMap((r) => (r.error === undefined ? [] : [{ id: r.id, error: r.error }])),
      };
    },
    close: async () => {},
  };
}
