import { useEffect, useState } from 'react';
import * as api from '../api';
import type { Analytics, Durations, Group } from '../types';
import { useBots } from './lists';
import { duration } from '../util';
import { ErrorNotice } from '../components/Notice';
import { DayBars, DurationBars, RatingBars } from './Charts';

function isoDay(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

/** instant is the start of a local day (plus days), as the API takes times: RFC 3339. */
function instant(day: string, plus = 0): string | undefined {
  const [y, m, d] = day.split('-').map(Number);
  if (!y || !m || !d) return undefined;
  return new Date(y, m - 1, d + plus).toISOString();
}

export function AnalyticsPage() {
  const bots = useBots();
  const [bot, setBot] = useState('');
  const [queue, setQueue] = useState('');
  const [from, setFrom] = useState(() => isoDay(new Date(Date.now() - 29 * 86400_000)));
  const [to, setTo] = useState(() => isoDay(new Date()));
  const [data, setData] = useState<Analytics | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    const t = window.setTimeout(() => {
      // From the start of the first day to the end of the last one.
      api.analytics({ bot, queue, from: instant(from), to: instant(to, 1) }).then((d) => {
        setData(d);
        setError(null);
      }, (e) => {
        setError(e);
        setData(null);
      });
    }, 250);
    return () => window.clearTimeout(t);
  }, [bot, queue, from, to]);

  return (
    <div className="page analytics">
      <h1>Analytics</h1>
      <div className="row wrap toolbar">
        <select aria-label="Bot" value={bot} onChange={(e) => setBot(e.target.value)}>
          <option value="">All bots</option>
          {bots.map((b) => <option key={b.id} value={b.id}>{b.name}</option>)}
        </select>
        <input aria-label="Queue" placeholder="Queue" value={queue} onChange={(e) => setQueue(e.target.value)} />
        <label>From <input type="date" value={from} onChange={(e) => setFrom(e.target.value)} /></label>
        <label>To <input type="date" value={to} onChange={(e) => setTo(e.target.value)} /></label>
      </div>
      <ErrorNotice error={error} what="Analytics" />
      {data && (
        <>
          <section className="card">
            <h2>Handovers per day</h2>
            <DayBars data={data.per_day ?? []} />
          </section>
          <section className="card">
            <h2>Response times</h2>
            <DurationBars rows={[
              { label: 'Time to assign', ...figures(data.time_to_assign) },
              { label: 'First reply', ...figures(data.time_to_first_reply) },
              { label: 'Time to resolve', ...figures(data.time_to_resolve) },
            ]} />
          </section>
          <div className="cards">
            <section className="card">
              <h2>Ratings</h2>
              <p>{data.ratings?.count ?? 0} ratings{data.ratings?.count && data.ratings.average ? `, average ${data.ratings.average.toFixed(2)}` : ''}</p>
              <RatingBars counts={data.ratings?.counts ?? {}} />
            </section>
            <section className="card">
              <h2>By agent</h2>
              <Breakdown rows={(data.by_agent ?? []).map((g) => row(g, g.agent))} />
            </section>
            <section className="card">
              <h2>By queue</h2>
              <Breakdown rows={(data.by_queue ?? []).map((g) => row(g, g.queue))} />
            </section>
          </div>
        </>
      )}
    </div>
  );
}

/** figures are the median and p90 of d, none when it counts nothing. */
function figures(d?: Durations): { median?: number | null; p90?: number | null } {
  if (!d || d.count === 0) return { median: null, p90: null };
  return { median: d.median_s, p90: d.p90_s };
}

/** row reads a group in the server's shape or the contract's older one. */
function row(g: Group, key?: string) {
  const k = g.key ?? key ?? '';
  const first = g.time_to_first_reply ? figures(g.time_to_first_reply).median : g.median_first_reply_s;
  const rating = g.rating_count === 0 ? null : (g.rating_average ?? g.rating_avg);
  return { key: k, name: g.name || k || '(none)', n: g.handovers, first, rating };
}

function Breakdown({ rows }: { rows: { key: string; name: string; n: number; first?: number | null; rating?: number | null }[] }) {
  if (rows.length === 0) return <p className="muted">Nothing yet.</p>;
  return (
    <table className="table">
      <thead><tr><th>Name</th><th>Handovers</th><th>Median first reply</th><th>Rating</th></tr></thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.key}><td>{r.name}</td><td>{r.n}</td><td>{duration(r.first)}</td><td>{r.rating ? r.rating.toFixed(1) : '—'}</td></tr>
        ))}
      </tbody>
    </table>
  );
}
