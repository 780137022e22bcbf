// A bot's live-chat settings and its library of canned replies.
import { useEffect, useState, type FormEvent } from 'react';
import * as api from '../api';
import { cannedButton, cannedImage, type CannedReply, type LiveChatSettings } from '../types';
import { errorText } from '../util';
import { ErrorNotice, Notice } from '../components/Notice';
import { useBots } from './lists';

export function SettingsPage() {
  const bots = useBots();
  const [bot, setBot] = useState('');
  useEffect(() => {
    if (!bot && bots.length) setBot(bots[0].id);
  }, [bots, bot]);
  return (
    <div className="page settings">
      <h1>Settings</h1>
      <label className="row">
        Bot
        <select aria-label="Bot" value={bot} onChange={(e) => setBot(e.target.value)}>
          {bots.map((b) => <option key={b.id} value={b.id}>{b.name}</option>)}
        </select>
      </label>
      {bots.length === 0 && <p className="muted">No bot is running, or the bots cannot be listed.</p>}
      {bot && (
        <>
          <LiveChatForm key={`lc-${bot}`} bot={bot} />
          <CannedLibrary key={`cr-${bot}`} bot={bot} />
        </>
      )}
    </div>
  );
}

const EMPTY: LiveChatSettings = { idle_off: '1h', resolve_message: '', rating: false, offline_message: '', notify_webhook: '', notify_after: '5m' };

function LiveChatForm({ bot }: { bot: string }) {
  const [s, setS] = useState<LiveChatSettings | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState('');
  useEffect(() => {
    api.getLiveChat(bot).then((v) => setS({ ...EMPTY, ...v }), setError);
  }, [bot]);
  async function save(e: FormEvent) {
    e.preventDefault();
    if (!s) return;
    setSaved('');
    setError(null);
    try {
      setS({ ...EMPTY, ...(await api.putLiveChat(bot, s)) });
      setSaved('Saved.');
    } catch (err) {
      setError(err);
    }
  }
  const field = (k: 'idle_off' | 'notify_after' | 'notify_webhook', label: string, hint: string) => (
    <label>
      {label}
      <input value={s?.[k] ?? ''} onChange={(e) => s && setS({ ...s, [k]: e.target.value })} />
      <small className="muted">{hint}</small>
    </label>
  );
  return (
    <section className="card">
      <h2>Live chat</h2>
      <ErrorNotice error={error} what="Live-chat settings" />
      {s && (
        <form className="form" onSubmit={save}>
          {field('idle_off', 'Auto-off after', 'The live chat turns itself off this long after the last agent message (e.g. 1h, 30m).')}
          <label>
            Resolve message
            <textarea rows={2} value={s.resolve_message} onChange={(e) => setS({ ...s, resolve_message: e.target.value })} />
          </label>
          <label className="check">
            <input type="checkbox" checked={s.rating} onChange={(e) => setS({ ...s, rating: e.target.checked })} />
            Ask the customer for a rating (1–5) when resolved
          </label>
          <label>
            Message when no agent is online
            <textarea rows={2} value={s.offline_message} onChange={(e) => setS({ ...s, offline_message: e.target.value })} />
          </label>
          {field('notify_webhook', 'Notify webhook', 'Called when a handover waits and no agent is online, or it waits too long.')}
          {field('notify_after', 'Notify after', 'How long a handover waits before the webhook is called (e.g. 5m).')}
          <div className="row">
            <button type="submit" className="primary">Save</button>
            {saved && <span className="muted" role="status">{saved}</span>}
          </div>
        </form>
      )}
    </section>
  );
}

type Draft = { id?: string; title: string; shortcut: string; text: string; buttonTitle: string; buttonUrl: string; imageUrl: string };
const NEW: Draft = { title: '', shortcut: '', text: '', buttonTitle: '', buttonUrl: '', imageUrl: '' };

function toDraft(c: CannedReply): Draft {
  const b = cannedButton(c);
  return { id: c.id, title: c.title, shortcut: c.shortcut ?? '', text: c.text ?? '', buttonTitle: b?.title ?? '', buttonUrl: b?.url ?? '', imageUrl: cannedImage(c) };
}

function CannedLibrary({ bot }: { bot: string }) {
  const [list, setList] = useState<CannedReply[] | null>(null);
  const [q, setQ] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [draft, setDraft] = useState<Draft | null>(null);
  const reload = () => api.listCanned({ bot }).then((r) => { setList(r.canned_replies ?? []); setError(null); }, setError);
  useEffect(() => {
    void reload();
  }, [bot]); // eslint-disable-line react-hooks/exhaustive-deps

  async function save(d: Draft) {
    const body: api.CannedInput = {
      bot, title: d.title.trim(), shortcut: d.shortcut.trim().replace(/^\//, ''), text: d.text,
      button_title: d.buttonUrl ? d.buttonTitle.trim() : '', button_url: d.buttonUrl.trim(), image_url: d.imageUrl.trim(),
    };
    if (d.id) await api.updateCanned(d.id, body);
    else await api.createCanned(body);
    setDraft(null);
    await reload();
  }

  async function remove(c: CannedReply) {
    if (!window.confirm(`Delete the canned reply “${c.title}”?`)) return;
    try {
      await api.deleteCanned(c.id);
      await reload();
    } catch (e) {
      setError(e);
    }
  }

  const shown = (list ?? []).filter((c) => !q || [c.title, c.shortcut, c.text].some((s) => (s ?? '').toLowerCase().includes(q.toLowerCase())));
  return (
    <section className="card">
      <div className="row">
        <h2>Canned replies</h2>
        <span className="spacer" />
        <input type="search" aria-label="Search canned replies" placeholder="Search" value={q} onChange={(e) => setQ(e.target.value)} />
        <button type="button" className="primary" onClick={() => setDraft({ ...NEW })}>New</button>
      </div>
      <ErrorNotice error={error} what="Canned replies" />
      {draft && <CannedForm draft={draft} onSave={save} onCancel={() => setDraft(null)} />}
      {list && list.length === 0 && <p className="muted">No canned replies yet for this bot.</p>}
      {shown.length > 0 && (
        <table className="table canned-table">
          <thead><tr><th>Title</th><th>Shortcut</th><th>Text</th><th>Sent</th><th /></tr></thead>
          <tbody>
            {shown.map((c) => (
              <tr key={c.id}>
                <td>{c.title}</td>
                <td>{c.shortcut ? `/${c.shortcut.replace(/^\//, '')}` : ''}</td>
                <td className="clip">{c.text}{cannedButton(c) ? ` · 🔗 ${cannedButton(c)!.title}` : ''}{cannedImage(c) ? ' · 🖼' : ''}</td>
                <td>{c.sent ?? 0}</td>
                <td className="row">
                  <button type="button" onClick={() => setDraft(toDraft(c))}>Edit</button>
                  <button type="button" className="danger" onClick={() => void remove(c)}>Delete</button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function CannedForm({ draft, onSave, onCancel }: { draft: Draft; onSave: (d: Draft) => Promise<void>; onCancel: () => void }) {
  const [d, setD] = useState(draft);
  const [error, setError] = useState('');
  const set = (k: keyof Draft) => (e: { target: { value: string } }) => setD({ ...d, [k]: e.target.value });
  return (
    <form className="form canned-form" onSubmit={async (e) => {
      e.preventDefault();
      setError('');
      try {
        await onSave(d);
      } catch (err) {
        setError(errorText(err));
      }
    }}>
      {error && <Notice kind="error">{error}</Notice>}
      <div className="row">
        <label>Title <input required value={d.title} onChange={set('title')} /></label>
        <label>Shortcut <input value={d.shortcut} onChange={set('shortcut')} placeholder="refund" /></label>
      </div>
      <label>Text <textarea rows={3} value={d.text} onChange={set('text')} /></label>
      <div className="row">
        <label>Link button title <input value={d.buttonTitle} onChange={set('buttonTitle')} /></label>
        <label>Link button URL <input type="url" value={d.buttonUrl} onChange={set('buttonUrl')} placeholder="https://…" /></label>
      </div>
      <label>Image URL <input value={d.imageUrl} onChange={set('imageUrl')} placeholder="/webchat/files/… or https://…" /></label>
      <div className="row">
        <button type="submit" className="primary">{d.id ? 'Save' : 'Create'}</button>
        <button type="button" onClick={onCancel}>Cancel</button>
      </div>
    </form>
  );
}
