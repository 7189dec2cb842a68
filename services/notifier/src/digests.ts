// The digest loop: sends the digests that may go out now (one per DIGEST_MINUTES per shared address).
// An email digest lists every held message with its ticket's facts and links; a call digest queues one
// call (paced and number-limited like any) that says how many tickets wait.
import { renderDigest } from '@abuse-desk/channels';
import type { DigestEntry, EmailKind } from '@abuse-desk/channels';
import { claimDueDigests, digestItems, issueResolutionToken, markDigestFailed, markDigestSent, messageView, queueDigestCall } from '@abuse-desk/db';
import type { ClaimOptions, Claimed, Digest } from '@abuse-desk/db';
import type { Logger } from 'pino';
import type { NotifierDeps, NotifierMetrics } from './index.js';

export async function digestTick(deps: NotifierDeps, log: Logger, metrics: NotifierMetrics, claimOptions: ClaimOptions, nudge: () => void): Promise<number> {
  const claimed = await claimDueDigests(deps.db, { ...claimOptions, periodSeconds: deps.config.digestMinutes * 60 });
  for (const d of claimed) {
    await sendDigest(deps, d, log.child({ digestId: d.id, channel: d.channel }), metrics, nudge).catch((err: unknown) => {
      log.error({ err, digestId: d.id }, 'digest.error');
    });
  }
  return claimed.length;
}

async function sendDigest(deps: NotifierDeps, d: Claimed<Digest>, log: Logger, metrics: NotifierMetrics, nudge: () => void) {
  const now = deps.clock.now();
  if (d.channel === 'voice') {
    const { carrierId, items } = await queueDigestCall(deps.db, d, now);
    metrics.digests.inc({ channel: 'voice', result: carrierId ? 'queued' : 'empty' });
    log.info({ carrierId, items }, 'digest.call_queued');
    if (carrierId) nudge();
    return;
  }
  if (d.previous_status === 'dispatching') log.warn('digest.resend_after_crash');
  const items = await digestItems(deps.db, d.id);
  if (!items.length) {
    await markDigestSent(deps.db, d, '', 0, now);
    metrics.digests.inc({ channel: 'email', result: 'empty' });
    return;
  }
  // One resolution link and one view per ticket, however many of its messages the digest carries.
  const views = new Map<string, Awaited<ReturnType<typeof messageView>>>();
  for (const ticketId of new Set(items.map((a) => a.ticket_id))) {
    views.set(ticketId, await messageView(deps.db, ticketId, `${deps.config.publicBaseUrl}/resolve/${await issueResolutionToken(deps.db, ticketId, now)}`));
  }
  const entries: DigestEntry[] = items.flatMap((a) => {
    const view = views.get(a.ticket_id);
    return view ? [{ kind: a.kind as EmailKind, view, ticketUrl: `${deps.config.publicBaseUrl}/ui/tickets/${encodeURIComponent(view.number)}` }] : [];
  });
  const first = items[0]!;
  const rendered = renderDigest(entries, { name: first.contact_name, timezone: first.timezone }, deps.config.digestMinutes);
  try {
    const sent = await deps.email.send({ to: [d.address], ...rendered, messageId: `<digest-${d.id}@abuse-desk>` });
    await markDigestSent(deps.db, d, sent.providerRef, items.length, deps.clock.now());
    metrics.digests.inc({ channel: 'email', result: 'sent' });
    for (const a of items) metrics.attempts.inc({ channel: 'email', kind: a.kind, outcome: 'sent' });
    log.info({ items: items.length, tickets: views.size }, 'digest.sent');
  } catch (err) {
    const next = await markDigestFailed(deps.db, d, err instanceof Error ? err.message : String(err), deps.clock.now());
    metrics.digests.inc({ channel: 'email', result: next === 'failed' ? 'failed' : 'retry' });
    log.warn({ err, tries: d.tries, next }, 'digest.failed');
  }
}
