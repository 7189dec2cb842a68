// Per-minute spam+phish and clean verdicts around the trip, drawn as inline SVG (no chart library).
import type { Bucket } from '@abuse-desk/contracts';
import { utcHm } from '../format';

interface Props {
  tenantId: string;
  from: Date;
  to: Date;
  windowStart: Date;
  windowEnd: Date;
  buckets: Bucket[];
}

const W = 960;
const H = 260;
const M = { l: 44, r: 12, t: 14, b: 30 };

export function CountsChart({ tenantId, from, to, windowStart, windowEnd, buckets }: Props) {
  const minute = 60_000;
  const start = Math.floor(from.getTime() / minute) * minute;
  const end = Math.ceil(to.getTime() / minute) * minute;
  const byMinute = new Map(buckets.map((b) => [Math.floor(new Date(b.bucketStart).getTime() / minute) * minute, b]));
  const points: { t: number; bad: number; clean: number }[] = [];
  for (let t = start; t <= end; t += minute) {
    const b = byMinute.get(t);
    points.push({ t, bad: b ? b.spam + b.phish : 0, clean: b ? b.clean : 0 });
  }
  const max = Math.max(1, ...points.map((p) => Math.max(p.bad, p.clean)));
  const x = (t: number) => M.l + ((t - start) / Math.max(minute, end - start)) * (W - M.l - M.r);
  const y = (v: number) => H - M.b - (v / max) * (H - M.t - M.b);
  const line = (key: 'bad' | 'clean') => points.map((p) => `${x(p.t).toFixed(1)},${y(p[key]).toFixed(1)}`).join(' ');
  const peak = points.reduce((a, p) => (p.bad > a.bad ? p : a), points[0] ?? { t: start, bad: 0, clean: 0 });
  const ticks: number[] = [];
  for (let t = Math.ceil(start / (10 * minute)) * 10 * minute; t <= end; t += 10 * minute) ticks.push(t);
  const title = `Verdicts per minute for ${tenantId}, ${utcHm(new Date(start))}–${utcHm(new Date(end))} UTC`;
  const desc = `Spam and phish per minute (red) and clean per minute (grey). The shaded band is the trip window ${utcHm(windowStart)}–${utcHm(windowEnd)} UTC. Peak spam and phish: ${peak.bad} per minute at ${utcHm(new Date(peak.t))} UTC.`;
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-labelledby="chart-title" aria-describedby="chart-desc" preserveAspectRatio="xMidYMid meet">
        <title id="chart-title">{title}</title>
        <desc id="chart-desc">{desc}</desc>
        <rect class="chart-window" x={x(windowStart.getTime())} y={M.t} width={Math.max(2, x(windowEnd.getTime()) - x(windowStart.getTime()))} height={H - M.t - M.b} />
        {[0, 0.5, 1].map((f) => (
          <g key={f}>
            <line class="chart-grid" x1={M.l} x2={W - M.r} y1={y(max * f)} y2={y(max * f)} />
            <text class="chart-label" x={M.l - 6} y={y(max * f) + 4} text-anchor="end">
              {Math.round(max * f)}
            </text>
          </g>
        ))}
        {ticks.map((t) => (
          <text key={t} class="chart-label" x={x(t)} y={H - 10} text-anchor="middle">
            {utcHm(new Date(t))}
          </text>
        ))}
        <polyline class="chart-clean" points={line('clean')} />
        <polyline class="chart-bad" points={line('bad')} />
      </svg>
      <figcaption>
        <span class="legend legend-bad" aria-hidden="true" /> spam + phish per minute <span class="legend legend-clean" aria-hidden="true" /> clean per minute{' '}
        <span class="legend legend-window" aria-hidden="true" /> trip window (UTC)
      </figcaption>
    </figure>
  );
}
