// Plain SVG charts: bars over days, and median/p90 bars of durations.
import { duration } from '../util';

export function DayBars({ data }: { data: { day: string; count: number }[] }) {
  if (data.length === 0) return <p className="muted">No handovers in this period.</p>;
  const W = 640, H = 180, pad = 24;
  const max = Math.max(1, ...data.map((d) => d.count));
  const bw = Math.min(48, (W - pad) / data.length);
  return (
    <svg className="chart" viewBox={`0 0 ${W} ${H + 20}`} role="img" aria-label="Handovers per day">
      <line x1={pad} y1={H} x2={W} y2={H} className="axis" />
      <text x={0} y={12} className="label">{max}</text>
      {data.map((d, i) => {
        const h = (d.count / max) * (H - 16);
        const x = pad + i * bw;
        return (
          <g key={d.day}>
            <rect x={x + 1} y={H - h} width={Math.max(1, bw - 2)} height={h} className="bar">
              <title>{`${d.day}: ${d.count}`}</title>
            </rect>
            {(data.length <= 14 || i % Math.ceil(data.length / 10) === 0) && (
              <text x={x + bw / 2} y={H + 14} textAnchor="middle" className="label">{d.day.slice(5)}</text>
            )}
          </g>
        );
      })}
    </svg>
  );
}

export interface DurationRow {
  label: string;
  median?: number | null;
  p90?: number | null;
}

export function DurationBars({ rows }: { rows: DurationRow[] }) {
  const W = 640, rowH = 44, left = 150;
  const max = Math.max(1, ...rows.flatMap((r) => [r.median ?? 0, r.p90 ?? 0]));
  const scale = (v: number) => ((W - left - 80) * v) / max;
  return (
    <svg className="chart" viewBox={`0 0 ${W} ${rows.length * rowH + 10}`} role="img" aria-label="Durations: median and 90th percentile">
      {rows.map((r, i) => {
        const y = i * rowH + 6;
        return (
          <g key={r.label}>
            <text x={0} y={y + 20} className="label">{r.label}</text>
            <rect x={left} y={y + 4} width={scale(r.p90 ?? 0)} height={14} className="bar p90"><title>p90 {duration(r.p90)}</title></rect>
            <rect x={left} y={y + 20} width={scale(r.median ?? 0)} height={14} className="bar median"><title>median {duration(r.median)}</title></rect>
            <text x={left + scale(r.p90 ?? 0) + 6} y={y + 15} className="label">p90 {duration(r.p90)}</text>
            <text x={left + scale(r.median ?? 0) + 6} y={y + 31} className="label">median {duration(r.median)}</text>
          </g>
        );
      })}
    </svg>
  );
}

export function RatingBars({ counts }: { counts: Record<string, number> }) {
  const W = 320, rowH = 22;
  const max = Math.max(1, ...Object.values(counts));
  return (
    <svg className="chart small" viewBox={`0 0 ${W} ${5 * rowH}`} role="img" aria-label="Ratings">
      {[5, 4, 3, 2, 1].map((star, i) => {
        const n = counts[String(star)] ?? 0;
        return (
          <g key={star}>
            <text x={0} y={i * rowH + 15} className="label">{star} ★</text>
            <rect x={40} y={i * rowH + 4} width={((W - 90) * n) / max} height={14} className="bar" />
            <text x={44 + ((W - 90) * n) / max} y={i * rowH + 15} className="label">{n}</text>
          </g>
        );
      })}
    </svg>
  );
}
