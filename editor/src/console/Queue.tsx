// The queue: open handovers with filters, search and pages, kept up to
// date by the live socket; the conversation picked opens beside it.
import { useCallback, useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import { Link, Outlet, useParams, useSearchParams } from 'react-router';
import * as api from '../api';
import { useLiveEvents, useReconnected } from '../live';
import { useMe } from '../session';
import type { Handover } from '../types';
import { duration, ms, useNow } from '../util';
import { ErrorNotice } from '../components/Notice';
import { StatusBadge } from '../components/StatusBadge';
import { STATUSES, contactName, matches, waitingSince, type Filters } from './handover';
import { useBots, useTeams } from './lists';

const PAGE = 50;
const FILTER_KEYS: (keyof Filters)[] = ['status', 'queue', 'assignee', 'tag', 'channel', 'bot', 'q'];

export function QueuePage() {
  const { id } = useParams();
  return (
    <div className={`queue-page ${id ? 'has-conversation' : ''}`}>
      <QueueList selected={id} />
      <section className="conversation-pane">
        {id ? <Outlet /> : <p className="placeholder">Pick a conversation from the queue.</p>}
      </section>
    </div>
  );
}

function useFilters(): [Filters, (f: Partial<Filters>) => void] {
  const [params, setParams] = useSearchParams();
  const f: Filters = {
    status: params.get('status') ?? 'open',
    queue: params.get('queue') ?? '',
    assignee: params.get('assignee') ?? '',
    tag: params.get('tag') ?? '',
    channel: params.get('channel') ?? '',
    bot: params.get('bot') ?? '',
    q: params.get('q') ?? '',
  };
  const set = (p: Partial<Filters>) => {
    const next = new URLSearchParams(params);
    for (const k of FILTER_KEYS) {
      const v = k in p ? p[k] : f[k];
      if (v && !(k === 'status' && v === 'open')) next.set(k, v);
      else next.delete(k);
    }
    setParams(next, { replace: true });
  };
  return [f, set];
}

function QueueList({ selected }: { selected?: string }) {
  const me = useMe();
  const [filters, setFilters] = useFilters();
  const [items, setItems] = useState<Handover[]>([]);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(null);
  // cursors[i] is the cursor of page i; the next page's is nextCursor.
  const [cursors, setCursors] = useState<string[]>(['']);
  const [nextCursor, setNextCursor] = useState('');
  const [fresh, setFresh] = useState<Set<string>>(new Set());
  const page = cursors.length - 1;
  const key = FILTER_KEYS.map((k) => filters[k]).join('\u0000');

  const load = useCallback((cursor: string, signal?: AbortSignal) => {
    setLoading(true);
    const assignee = filters.assignee === 'me' ? me.id || 'me' : filters.assignee;
    api.listHandovers({ ...filters, assignee, cursor, limit: PAGE }, signal).then(
      (r) => {
        setItems(r.handovers ?? []);
        setNextCursor(r.next_cursor ?? '');
        setError(null);
        setLoading(false);
      },
      (e) => {
        if ((e as Error).name === 'AbortError') return;
        setError(e);
        setItems([]);
        setLoading(false);
      },
    );
  }, [key, me.id]); // eslint-disable-line react-hooks/exhaustive-deps

  useEffect(() => {
    setCursors(['']);
    const ac = new AbortController();
    load('', ac.signal);
    return () => ac.abort();
  }, [load]);

  // Live: a handover that is new or changed goes in (or out) of the list.
  useLiveEvents((e) => {
    const h = e.handover;
    if (e.type === 'handover' && h) {
      const fits = matches(h, filters, me.id);
      setItems((list) => {
        const i = list.findIndex((x) => x.id === h.id);
        if (i >= 0) return fits ? list.map((x) => (x.id === h.id ? h : x)) : list.filter((x) => x.id !== h.id);
        return fits && page === 0 ? [h, ...list] : list;
      });
      // A new one is highlighted as it comes in.
      if (fits && page === 0 && h.status === 'new') setFresh((s) => (s.has(h.id) ? s : new Set(s).add(h.id)));
    } else if (e.type === 'handover_end' && filters.status === 'open') {
      const cid = e.contact?.id;
      if (h) setItems((list) => list.filter((x) => x.id !== h.id));
      else if (cid) setItems((list) => list.filter((x) => x.contact?.id !== cid));
    }
  }, [key, page, me.id]);

  useReconnected(() => load(cursors[cursors.length - 1]));

  const waiting = items.filter((h) => h.status === 'new' || h.status === 'overdue').length;
  useEffect(() => {
    document.title = waiting ? `(${waiting}) Switchboard console` : 'Switchboard console';
    return () => {
      document.title = 'Switchboard console';
    };
  }, [waiting]);

  const sorted = useMemo(() => [...items].sort((a, b) => (ms(a.created_at) ?? 0) - (ms(b.created_at) ?? 0)), [items]);
  const search = useSearchParams()[0].toString();

  return (
    <section className="queue" aria-label="Queue">
      <QueueFilters filters={filters} onChange={setFilters} />
      <ErrorNotice error={error} what="The queue" />
      {loading && items.length === 0 && !error && <p className="muted">Loading…</p>}
      {!loading && !error && items.length === 0 && (
        <p className="empty-state">No conversations waiting{filters.status !== 'open' ? ` with status ${filters.status}` : ''}. New ones appear here as they come in.</p>
      )}
      <ul className="queue-list">
        {sorted.map((h) => (
          <QueueItem key={h.id} h={h} selected={h.id === selected} fresh={fresh.has(h.id)} search={search} />
        ))}
      </ul>
      {(page > 0 || nextCursor) && (
        <div className="pager">
          <button type="button" disabled={page === 0} onClick={() => {
            const c = cursors.slice(0, -1);
            setCursors(c);
            load(c[c.length - 1]);
          }}>Previous</button>
          <span className="muted">Page {page + 1}</span>
          <button type="button" disabled={!nextCursor} onClick={() => {
            setCursors([...cursors, nextCursor]);
            load(nextCursor);
          }}>Next</button>
        </div>
      )}
    </section>
  );
}

function QueueItem({ h, selected, fresh, search }: { h: Handover; selected: boolean; fresh: boolean; search: string }) {
  return (
    <li className={`queue-item status-${h.status} ${selected ? 'selected' : ''} ${fresh ? 'fresh' : ''}`} data-id={h.id}>
      <Link to={{ pathname: `/queue/${encodeURIComponent(h.id)}`, search }}>
        <span className="qi-top">
          <span className="qi-name">{contactName(h)}</span>
          <StatusBadge status={h.status} />
        </span>
        <span className="qi-msg">{h.message || h.note || ''}</span>
        <span className="qi-meta">
          {h.queue && <span className="tag">{h.queue}</span>}
          <span>{h.channel}</span>
          {h.assignee_name || h.assignee ? <span>→ {h.assignee_name || h.assignee}</span> : <span className="muted">unassigned</span>}
          <Waiting h={h} />
        </span>
      </Link>
    </li>
  );
}

function Waiting({ h }: { h: Handover }) {
  const now = useNow();
  const since = waitingSince(h);
  if (since === null) return null;
  return <span className="waiting" title="Waiting for an agent">waiting {duration((now - since) / 1000)}</span>;
}

function QueueFilters({ filters, onChange }: { filters: Filters; onChange: (f: Partial<Filters>) => void }) {
  const bots = useBots();
  const teams = useTeams();
  const [q, setQ] = useState(filters.q);
  const timer = useRef<number>(undefined);
  useEffect(() => setQ(filters.q), [filters.q]);
  function submit(e: FormEvent) {
    e.preventDefault();
    onChange({ q });
  }
  const text = (k: 'queue' | 'tag' | 'channel', label: string) => (
    <input aria-label={label} placeholder={label} defaultValue={filters[k]} key={`${k}:${filters[k]}`}
      onChange={(e) => {
        const v = e.target.value.trim();
        window.clearTimeout(timer.current);
        timer.current = window.setTimeout(() => onChange({ [k]: v }), 400);
      }} />
  );
  return (
    <div className="filters">
      <form className="search" role="search" onSubmit={submit}>
        <input type="search" aria-label="Search conversations" placeholder="Search…" value={q} onChange={(e) => setQ(e.target.value)} />
      </form>
      <div className="filter-row">
        <select aria-label="Status" value={filters.status} onChange={(e) => onChange({ status: e.target.value })}>
          {STATUSES.map((s) => <option key={s} value={s}>{s}</option>)}
        </select>
        <select aria-label="Assignee" value={['', 'me', 'none'].includes(filters.assignee) ? filters.assignee : ''} onChange={(e) => onChange({ assignee: e.target.value })}>
          <option value="">anyone</option>
          <option value="me">me</option>
          <option value="none">unassigned</option>
        </select>
        {bots.length > 1 && (
          <select aria-label="Bot" value={filters.bot} onChange={(e) => onChange({ bot: e.target.value })}>
            <option value="">all bots</option>
            {bots.map((b) => <option key={b.id} value={b.id}>{b.name}</option>)}
          </select>
        )}
        {teams.length > 0 ? (
          <select aria-label="Queue" value={filters.queue} onChange={(e) => onChange({ queue: e.target.value })}>
            <option value="">all queues</option>
            {teams.map((t) => <option key={t.id} value={t.id}>{t.name || t.id}</option>)}
          </select>
        ) : text('queue', 'Queue')}
        {text('tag', 'Tag')}
        {text('channel', 'Channel')}
      </div>
    </div>
  );
}
