// The customer beside the conversation: attributes (editable, keeping
// their type), tags of the conversation and of the contact, channel, and
// earlier conversations.
import { useEffect, useState } from 'react';
import { Link } from 'react-router';
import * as api from '../api';
import type { Contact, Handover } from '../types';
import { clock, errorText } from '../util';
import { Notice } from '../components/Notice';
import { StatusBadge } from '../components/StatusBadge';

export function ContactPanel({ h, onHandover }: { h: Handover; onHandover: (h: Handover) => void }) {
  const [contact, setContact] = useState<Contact>(h.contact);
  useEffect(() => setContact(h.contact), [h.contact]);
  return (
    <aside className="contact-panel" aria-label="Contact">
      <h3>{contact.name || contact.external_id || contact.id}</h3>
      <dl className="facts">
        <dt>Channel</dt><dd>{contact.channel || h.channel}</dd>
        <dt>Bot</dt><dd>{h.bot}</dd>
        {contact.external_id && <><dt>External id</dt><dd>{contact.external_id}</dd></>}
        {h.queue && <><dt>Queue</dt><dd>{h.queue}</dd></>}
        {h.priority && <><dt>Priority</dt><dd>{h.priority}</dd></>}
        {contact.banned && <><dt>Banned</dt><dd>yes</dd></>}
      </dl>
      {h.form && Object.keys(h.form).length > 0 && (
        <>
          <h4>Form</h4>
          <dl className="facts">{Object.entries(h.form).map(([k, v]) => <Fact key={k} k={k} v={v} />)}</dl>
        </>
      )}
      <h4>Conversation tags</h4>
      <Tags tags={h.tags ?? []} onSave={async (tags) => onHandover(await api.patchHandover(h.id, { tags }))} />
      <h4>Contact tags</h4>
      <Tags tags={contact.tags ?? []} onSave={async (tags) => setContact(await api.patchContact(contact.id, { tags }))} />
      <h4>Attributes</h4>
      <Attributes contact={contact} onSaved={setContact} />
      <h4>Earlier conversations</h4>
      <Earlier h={h} />
      <Ban contact={contact} onChange={setContact} />
    </aside>
  );
}

function Ban({ contact, onChange }: { contact: Contact; onChange: (c: Contact) => void }) {
  const [error, setError] = useState('');
  async function toggle() {
    const ban = !contact.banned;
    if (ban && !window.confirm('Ban this contact? The bot and the agents stop receiving their messages.')) return;
    setError('');
    try {
      const c = await api.banContact(contact.id, ban);
      onChange(c && c.id ? c : { ...contact, banned: ban });
    } catch (e) {
      setError(errorText(e));
    }
  }
  return (
    <div className="ban">
      <button type="button" className={contact.banned ? '' : 'danger'} onClick={() => void toggle()}>{contact.banned ? 'Unban contact' : 'Ban contact'}</button>
      {error && <Notice kind="error">{error}</Notice>}
    </div>
  );
}

function Fact({ k, v }: { k: string; v: unknown }) {
  return <><dt>{k}</dt><dd>{typeof v === 'string' ? v : JSON.stringify(v)}</dd></>;
}

function Tags({ tags, onSave }: { tags: string[]; onSave: (tags: string[]) => Promise<void> }) {
  const [draft, setDraft] = useState('');
  const [error, setError] = useState('');
  async function save(next: string[]) {
    setError('');
    try {
      await onSave(next);
    } catch (e) {
      setError(errorText(e));
    }
  }
  return (
    <div className="tags">
      {tags.map((t) => (
        <span className="tag" key={t}>{t} <button type="button" aria-label={`Remove tag ${t}`} onClick={() => void save(tags.filter((x) => x !== t))}>×</button></span>
      ))}
      <form className="row" onSubmit={(e) => {
        e.preventDefault();
        const t = draft.trim();
        if (t && !tags.includes(t)) void save([...tags, t]).then(() => setDraft(''));
      }}>
        <input aria-label="New tag" placeholder="add tag" value={draft} onChange={(e) => setDraft(e.target.value)} />
      </form>
      {error && <Notice kind="error">{error}</Notice>}
    </div>
  );
}

/** parseLike reads s as the type of before: numbers stay numbers, booleans booleans. */
function parseLike(before: unknown, s: string): unknown {
  if (typeof before === 'number') {
    const n = Number(s);
    if (s.trim() === '' || Number.isNaN(n)) throw new Error(`"${s}" is not a number`);
    return n;
  }
  if (typeof before === 'boolean') {
    if (s !== 'true' && s !== 'false') throw new Error('use true or false');
    return s === 'true';
  }
  if (before !== null && typeof before === 'object') return JSON.parse(s);
  return s;
}

function Attributes({ contact, onSaved }: { contact: Contact; onSaved: (c: Contact) => void }) {
  const attrs = contact.attributes ?? {};
  const [edit, setEdit] = useState<{ key: string; value: string; isNew?: boolean } | null>(null);
  const [error, setError] = useState('');
  async function save() {
    if (!edit || !edit.key.trim()) return;
    setError('');
    try {
      const value = parseLike(attrs[edit.key], edit.value);
      onSaved(await api.patchContact(contact.id, { attributes: { [edit.key.trim()]: value } }));
      setEdit(null);
    } catch (e) {
      setError(errorText(e));
    }
  }
  const shown = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));
  return (
    <div className="attributes">
      <table>
        <tbody>
          {Object.entries(attrs).map(([k, v]) => (
            <tr key={k}>
              <th scope="row">{k}</th>
              <td>
                {edit?.key === k && !edit.isNew ? (
                  <form onSubmit={(e) => { e.preventDefault(); void save(); }}>
                    <input aria-label={`Value of ${k}`} value={edit.value} onChange={(e) => setEdit({ ...edit, value: e.target.value })} autoFocus />
                    <span className="muted type">{typeof v}</span>
                  </form>
                ) : (
                  <button type="button" className="linkish" title="Edit" onClick={() => setEdit({ key: k, value: shown(v) })}>{shown(v)}</button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {edit?.isNew ? (
        <form className="row" onSubmit={(e) => { e.preventDefault(); void save(); }}>
          <input aria-label="Attribute name" placeholder="name" value={edit.key} onChange={(e) => setEdit({ ...edit, key: e.target.value })} />
          <input aria-label="Attribute value" placeholder="value" value={edit.value} onChange={(e) => setEdit({ ...edit, value: e.target.value })} />
          <button type="submit">Save</button>
        </form>
      ) : (
        <button type="button" className="linkish" onClick={() => setEdit({ key: '', value: '', isNew: true })}>+ attribute</button>
      )}
      {error && <Notice kind="error">{error}</Notice>}
    </div>
  );
}

function Earlier({ h }: { h: Handover }) {
  const [list, setList] = useState<Handover[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    const q = { contact: h.contact.id, bot: h.bot, limit: 20 };
    Promise.all(['resolved', 'closed'].map((status) => api.listHandovers({ ...q, status }))).then(
      // Narrowed here too: a server that does not filter by contact.
      (rs) => setList(rs.flatMap((r) => r.handovers ?? [])
        .filter((x) => x.contact?.id === h.contact.id && x.id !== h.id)
        .sort((a, b) => b.created_at.localeCompare(a.created_at))),
      (e) => setError(e),
    );
  }, [h.id, h.contact.id, h.bot]);
  if (error) return <p className="muted">Earlier conversations cannot be listed ({error instanceof api.ApiError && error.missing ? 'not on this server yet' : errorText(error)}).</p>;
  if (!list) return <p className="muted">Loading…</p>;
  if (list.length === 0) return <p className="muted">None.</p>;
  return (
    <ul className="earlier">
      {list.map((x) => (
        <li key={x.id}>
          <Link to={`/queue/${encodeURIComponent(x.id)}`}>{clock(x.created_at)}</Link> <StatusBadge status={x.status} /> {x.resolve_note || x.message}
        </li>
      ))}
    </ul>
  );
}
