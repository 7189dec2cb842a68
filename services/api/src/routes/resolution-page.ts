// The resolution page a tenant opens from the email: server-rendered HTML that works without JavaScript.
import type { Evidence } from '@abuse-desk/db';
import { escapeHtml } from './html.js';

const esc = escapeHtml;

export interface ResolutionPageInput {
  number: string;
  tenantId: string;
  tenantName: string;
  state: string;
  evidence: Evidence;
  deadlineAt: Date | null;
  outboundDisabled: boolean;
  resolutionText: string | null;
  now: Date;
  form: { actionsTaken?: string; contactName?: string; error?: string; submitted?: boolean };
}

/** The page's style and countdown, served as files: the Content-Security-Policy allows no inline code. */
export const RESOLVE_ASSETS = {
  'page.css':
    'body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;line-height:1.5}.alert{background:#fff3cd;border:1px solid #e0c36a;padding:.75rem}.error{color:#a00}textarea,input{width:100%;font:inherit;box-sizing:border-box}button{font:inherit;padding:.5rem 1rem}blockquote{border-left:3px solid #ccc;margin:0;padding-left:1rem;white-space:pre-wrap}\n',
  'countdown.js': `// Progressive enhancement: a live countdown; without JavaScript the page shows the minutes left.
(function () {
  var el = document.getElementById('countdown');
  if (!el) return;
  var deadline = Date.parse(el.getAttribute('data-deadline'));
  function tick() {
    var s = Math.max(0, Math.round((deadline - Date.now()) / 1000));
    el.textContent = s === 0 ? 'the deadline has passed' : Math.floor(s / 60) + ' min ' + String(s % 60).padStart(2, '0') + ' s left';
  }
  tick();
  setInterval(tick, 1000);
})();
`,
} as const;

const utc = (iso: string | Date) => `${new Date(iso).toISOString().replace('T', ' ').slice(0, 16)} UTC`;

const ruleText: Record<string, string> = {
  spam: 'messages judged spam or phishing',
  virus: 'messages carrying viruses',
  surge: 'an unusual surge of outbound mail',
};

export function resolutionPage(p: ResolutionPageInput): string {
  const e = p.evidence;
  const minutes = Math.round(e.windowSeconds / 60);
  const bad = e.rule === 'virus' ? e.counts.virus : e.counts.spam + e.counts.phish;
  const open = !['resolved', 'dismissed'].includes(p.state);
  const status = p.outboundDisabled
    ? '<p class="alert"><strong>Outbound mail for this account is suspended.</strong> It will be re-enabled once the abuse desk has reviewed your fix.</p>'
    : p.deadlineAt && open && p.state !== 'resolution_submitted'
      ? `<p class="alert"><strong>Outbound mail will be suspended at ${esc(p.deadlineAt.toISOString().replace('T', ' ').slice(0, 16))} UTC</strong> unless you report a fix before then (<span id="countdown" data-deadline="${p.deadlineAt.toISOString()}">${Math.max(0, Math.round((p.deadlineAt.getTime() - p.now.getTime()) / 60000))} minutes left</span>).</p>`
      : open && p.state === 'notifying'
        ? '<p class="alert">We are trying to reach your contacts. Once one of them acknowledges, or all have been tried, you have one hour to report a fix before outbound mail is suspended. You can report it now.</p>'
        : '';
  const senders = e.topSenders.length
    ? `<h2>Top sending addresses</h2><ul>${e.topSenders.map((s) => `<li><code>${esc(s.sender)}</code>: ${s.count}</li>`).join('')}</ul>`
    : '';
  const submitted = p.form.submitted || p.state === 'resolution_submitted';
  const form = !open
    ? `<p>This ticket is ${esc(p.state)}. Nothing more is needed from you.</p>`
    : submitted
      ? `<section role="status"><h2>Thank you — your fix was received</h2><p>The abuse desk will review it. ${p.outboundDisabled ? 'Outbound mail stays suspended until an agent re-enables it; you will receive an email when that happens.' : 'The suspension deadline is stopped while we review it; you will receive an email when the ticket is resolved.'}</p>${p.resolutionText ? `<h3>What you reported</h3><blockquote>${esc(p.resolutionText)}</blockquote>` : ''}</section>`
      : `<h2>Report your fix</h2>
<form method="post">
${p.form.error ? `<p class="error" role="alert">${esc(p.form.error)}</p>` : ''}
<p><label for="actionsTaken">What did you find and what have you done? (at least 10 characters)</label><br>
<textarea id="actionsTaken" name="actionsTaken" rows="8" cols="70" minlength="10" maxlength="5000" required>${esc(p.form.actionsTaken ?? '')}</textarea></p>
<p><label for="contactName">Your name</label><br><input id="contactName" name="contactName" maxlength="200" value="${esc(p.form.contactName ?? '')}"></p>
<p><button type="submit">Submit resolution</button></p>
</form>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">
<title>${esc(p.number)} — outbound abuse on ${esc(p.tenantName)}</title>
<link rel="stylesheet" href="/resolve-assets/page.css">
</head><body>
<h1>Ticket ${esc(p.number)}: outbound abuse from ${esc(p.tenantName)}</h1>
${status}
<p>Between ${esc(utc(e.windowStart))} and ${esc(utc(e.windowEnd))} (${minutes} minutes), your account <code>${esc(p.tenantId)}</code> sent ${bad} ${ruleText[e.rule] ?? 'suspicious messages'} out of ${e.total} messages checked (${(e.ratio * 100).toFixed(1)}%).</p>
${senders}
<h2>Usual causes</h2>
<ul><li>A compromised mailbox password or API key</li><li>An open relay or an insecure web form</li><li>An infected machine on your network</li><li>A forwarding rule sending mail on</li><li>A mass mailing sent by mistake</li></ul>
${form}
${status.includes('id="countdown"') ? '<script src="/resolve-assets/countdown.js" defer></script>' : ''}
</body></html>`;
}
