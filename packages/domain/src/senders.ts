// Top senders per tenant and minute (SPEC §1.2 evidence, §5 surge): what is kept so that storage grows
// with tenants × minutes, not with verdicts. Senders are tallied only for a tenant near a threshold
// (windows.ts collectsSenders), so most minutes of most tenants keep none. A minute keeps its
// TOP_SENDERS_PER_MINUTE senders with the most bad verdicts by name and folds the rest into one "other"
// entry — in the batch here, and where a batch meets a stored minute in the SQL function fold_top_senders —
// so it holds at most TOP_SENDERS_PER_MINUTE + 1 entries however many addresses a spam run uses. Clean mail
// is tallied by sender only for tenants whose policy has a surge rule, the one rule whose evidence it is.
import type { VerdictKind } from '@abuse-desk/contracts';

/** How many senders one tenant-minute keeps by name. The evidence lists the top 10 of its window. */
export const TOP_SENDERS_PER_MINUTE = 10;

/** The key under which senders beyond the top ones are folded. No sender is the empty string (it is dropped). */
export const OTHER_SENDERS = '';

/** Counts of one sender in one minute: [spam + phish, virus, clean]. */
export type SenderTally = [bad: number, virus: number, clean: number];
export type SenderTallies = Record<string, SenderTally>;

const SLOT: Record<VerdictKind, 0 | 1 | 2> = { spam: 0, phish: 0, virus: 1, clean: 2 };

/** Adds one verdict to a minute's tallies (a verdict without a sender is not tallied). */
export function tallySender(tallies: SenderTallies, sender: string | undefined | null, verdict: VerdictKind): void {
  if (!sender) return;
  const t = (tallies[sender] ??= [0, 0, 0]);
  t[SLOT[verdict]] += 1;
}

/**
 * Keeps the `keep` senders with the most bad verdicts (spam, phish, virus; then most mail; then by name,
 * so the choice is stable) and folds the rest into OTHER_SENDERS. The same rule runs in SQL where a batch meets a
 * stored minute (migration 20261130T1200, `fold_top_senders`): keep both in step.
 */
export function foldTopSenders(tallies: SenderTallies, keep = TOP_SENDERS_PER_MINUTE): SenderTallies {
  const named = Object.entries(tallies).filter(([s]) => s !== OTHER_SENDERS);
  named.sort(([sa, a], [sb, b]) => b[0] + b[1] - (a[0] + a[1]) || b[0] + b[1] + b[2] - (a[0] + a[1] + a[2]) || (sa < sb ? -1 : sa > sb ? 1 : 0));
  const out: SenderTallies = {};
  for (const [sender, t] of named.slice(0, keep)) out[sender] = [...t];
  const rest = named.slice(keep).map(([, t]) => t);
  const other = tallies[OTHER_SENDERS];
  if (other) rest.push(other);
  if (rest.length) out[OTHER_SENDERS] = rest.reduce<SenderTally>((sum, t) => [sum[0] + t[0], sum[1] + t[1], sum[2] + t[2]], [0, 0, 0]);
  return out;
}

/** Which tally slots a rule's evidence counts: spam and phish for the spam rule, virus for virus, all for surge. */
export function evidenceSlots(verdicts: readonly string[]): (0 | 1 | 2)[] {
  return [...new Set(verdicts.map((v) => SLOT[v as VerdictKind]))].sort();
}
