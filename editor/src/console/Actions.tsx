// What an agent does with a handover: take it, give it to someone,
// transfer it, put it on hold, resolve, close; export the conversation.
import { useEffect, useState, type FormEvent } from 'react';
import * as api from '../api';
import { useMe } from '../session';
import type { AgentPresence, Handover } from '../types';
import { download, errorText } from '../util';
import { Notice } from '../components/Notice';
import { exportName, toCSV, toJSON } from './export';
import { isOpen } from './handover';
import { useTeams } from './lists';

type Form = '' | 'assign' | 'transfer' | 'resolve';

export function Actions({ h, onChange }: { h: Handover; onChange: (h: Handover) => void }) {
  const me = useMe();
  const [form, setForm] = useState<Form>('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const mine = !!h.assignee && h.assignee === me.id;
  const manager = me.role === 'admin' || me.role === 'manager';
  const open = isOpen(h);

  async function act(f: () => Promise<Handover>) {
    setBusy(true);
    setError('');
    try {
      const r = await f();
      if (r && typeof r === 'object' && 'id' in r) onChange(r);
      setForm('');
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  }

  async function exportAs(kind: 'json' | 'csv') {
    setError('');
    try {
      const ms = await api.allMessages(h.contact.id);
      if (kind === 'json') download(exportName(h, 'json'), 'application/json', toJSON(h, ms));
      else download(exportName(h, 'csv'), 'text/csv', toCSV(ms));
    } catch (e) {
      setError(`Export: ${errorText(e)}`);
    }
  }

  return (
    <div className="actions">
      <div className="row wrap">
        {open && !mine && <button type="button" className="primary" disabled={busy} onClick={() => void act(() => api.assign(h.id))}>Assign to me</button>}
        {open && manager && <button type="button" disabled={busy} onClick={() => setForm(form === 'assign' ? '' : 'assign')}>Assign to…</button>}
        {open && h.assignee && <button type="button" disabled={busy} onClick={() => void act(() => api.unassign(h.id))}>Unassign</button>}
        {open && <button type="button" disabled={busy} onClick={() => setForm(form === 'transfer' ? '' : 'transfer')}>Transfer</button>}
        {open && h.status !== 'pending' && <button type="button" disabled={busy} title="Waiting on the customer" onClick={() => void act(() => api.patchHandover(h.id, { status: 'pending' }))}>Pending</button>}
        {open && <button type="button" disabled={busy} onClick={() => setForm(form === 'resolve' ? '' : 'resolve')}>Resolve</button>}
        {h.status !== 'closed' && <button type="button" disabled={busy} onClick={() => void act(() => api.close(h.id))}>Close</button>}
        <span className="spacer" />
        <span className="muted">Export</span>
        <button type="button" aria-label="Export JSON" title="Download the conversation as JSON" onClick={() => void exportAs('json')}>JSON</button>
        <button type="button" aria-label="Export CSV" title="Download the conversation as CSV" onClick={() => void exportAs('csv')}>CSV</button>
      </div>
      {error && <Notice kind="error">{error}</Notice>}
      {form === 'assign' && <AssignForm busy={busy} onSubmit={(agent) => void act(() => api.assign(h.id, agent))} />}
      {form === 'transfer' && <TransferForm busy={busy} onSubmit={(to) => void act(() => api.transfer(h.id, to))} />}
      {form === 'resolve' && <ResolveForm busy={busy} onSubmit={(note) => void act(() => api.resolve(h.id, note))} />}
    </div>
  );
}

function useAgents(): AgentPresence[] {
  const [agents, setAgents] = useState<AgentPresence[]>([]);
  useEffect(() => {
    api.listPresence().then((r) => setAgents(r.agents ?? []), () => setAgents([]));
  }, []);
  return agents;
}

function AgentChoice({ value, onChange }: { value: string; onChange: (v: string) => void }) {
  const agents = useAgents();
  if (agents.length === 0) {
    return <input aria-label="Agent" placeholder="Agent id" value={value} onChange={(e) => onChange(e.target.value)} />;
  }
  return (
    <select aria-label="Agent" value={value} onChange={(e) => onChange(e.target.value)}>
      <option value="">— agent —</option>
      {agents.map((a) => (
        <option key={a.id} value={a.id}>
          {a.name} ({a.presence}{a.capacity ? `, ${a.open_chats ?? 0}/${a.capacity}` : ''})
        </option>
      ))}
    </select>
  );
}

function TeamChoice({ value, onChange }: { value: string; onChange: (v: string) => void }) {
  const teams = useTeams();
  if (teams.length === 0) {
    return <input aria-label="Team" placeholder="Team / queue" value={value} onChange={(e) => onChange(e.target.value)} />;
  }
  return (
    <select aria-label="Team" value={value} onChange={(e) => onChange(e.target.value)}>
      <option value="">— team —</option>
      {teams.map((t) => <option key={t.id} value={t.id}>{t.name || t.id}</option>)}
    </select>
  );
}

function AssignForm({ busy, onSubmit }: { busy: boolean; onSubmit: (agent: string) => void }) {
  const [agent, setAgent] = useState('');
  return (
    <form className="inline-form row" onSubmit={(e: FormEvent) => { e.preventDefault(); if (agent) onSubmit(agent); }}>
      <AgentChoice value={agent} onChange={setAgent} />
      <button type="submit" disabled={busy || !agent}>Assign</button>
    </form>
  );
}

function TransferForm({ busy, onSubmit }: { busy: boolean; onSubmit: (to: { agent?: string; team?: string; note: string }) => void }) {
  const [agent, setAgent] = useState('');
  const [team, setTeam] = useState('');
  const [note, setNote] = useState('');
  return (
    <form className="inline-form" onSubmit={(e: FormEvent) => {
      e.preventDefault();
      if (agent || team) onSubmit({ ...(agent ? { agent } : {}), ...(team ? { team } : {}), note });
    }}>
      <div className="row">
        <AgentChoice value={agent} onChange={setAgent} />
        <span className="muted">or team</span>
        <TeamChoice value={team} onChange={setTeam} />
      </div>
      <textarea aria-label="Transfer note" placeholder="Note for whoever takes it" value={note} onChange={(e) => setNote(e.target.value)} rows={2} />
      <button type="submit" disabled={busy || (!agent && !team)}>Transfer</button>
    </form>
  );
}

function ResolveForm({ busy, onSubmit }: { busy: boolean; onSubmit: (note: string) => void }) {
  const [note, setNote] = useState('');
  return (
    <form className="inline-form" onSubmit={(e: FormEvent) => { e.preventDefault(); onSubmit(note); }}>
      <textarea aria-label="Resolve note" placeholder="What was done (optional)" value={note} onChange={(e) => setNote(e.target.value)} rows={2} />
      <button type="submit" className="primary" disabled={busy}>Resolve</button>
    </form>
  );
}
