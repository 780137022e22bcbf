// The agent's reply box: text, emoji, canned replies ("/"), an image or
// file (uploaded, or by URL), a link button, a skill of the bot, and
// internal notes.
import { useRef, useState, type KeyboardEvent } from 'react';
import * as api from '../api';
import { cannedButton, cannedImage, type CannedReply, type Handover } from '../types';
import { errorText, ms, useNow } from '../util';
import { Notice } from '../components/Notice';
import { CannedPicker, EmojiPicker, SkillPicker } from './Pickers';
import { NOTE_COLORS } from './Timeline';

type Panel = '' | 'emoji' | 'attach' | 'link' | 'skill';

export function Composer({ h, onSent }: { h: Handover; onSent: (h: Handover) => void }) {
  const [mode, setMode] = useState<'reply' | 'note'>('reply');
  const [text, setText] = useState('');
  const [panel, setPanel] = useState<Panel>('');
  const [canned, setCanned] = useState<CannedReply | null>(null);
  const [image, setImage] = useState<{ url: string; name?: string; kind?: string } | null>(null);
  const [button, setButton] = useState<{ title: string; url: string } | null>(null);
  const [color, setColor] = useState<string>('yellow');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [pickIndex, setPickIndex] = useState(0);
  const picks = useRef<CannedReply[]>([]);
  const input = useRef<HTMLTextAreaElement>(null);
  const now = useNow(5000);
  const windowEnd = ms(h.reply_window_ends_at);
  const windowClosed = windowEnd !== null && windowEnd <= now;
  const slash = mode === 'reply' && !canned && /^\/\S*$/.test(text) ? text.slice(1) : null;

  function insert(s: string) {
    const el = input.current;
    if (!el) return setText((t) => t + s);
    const a = el.selectionStart ?? text.length, b = el.selectionEnd ?? text.length;
    setText(text.slice(0, a) + s + text.slice(b));
    window.setTimeout(() => {
      el.focus();
      el.setSelectionRange(a + s.length, a + s.length);
    });
  }

  function pickCanned(c: CannedReply) {
    setCanned(c);
    setText(c.text);
    setPickIndex(0);
    input.current?.focus();
  }

  async function run(f: () => Promise<Handover | { handover: Handover }>) {
    // Replies and skills answer {…, handover}; notes answer the handover.
    setBusy(true);
    setError('');
    try {
      const r = await f();
      onSent('handover' in r && r.handover ? r.handover : (r as Handover));
      setText('');
      setCanned(null);
      setImage(null);
      setButton(null);
      setPanel('');
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  }

  function send() {
    if (busy) return;
    if (mode === 'note') {
      if (text.trim()) void run(() => api.addNote(h.id, text.trim(), color));
      return;
    }
    if (!text.trim() && !image && !canned) return;
    const reply: api.Reply = {};
    if (text.trim()) reply.text = text.trim();
    if (canned && text === canned.text) reply.canned = canned.id;
    else if (canned) {
      // Edited: sent as text with what the canned reply carried.
      const b = cannedButton(canned);
      if (b) reply.buttons = [b];
      if (cannedImage(canned)) reply.image_url = cannedImage(canned);
    }
    const buttons = [...(reply.buttons ?? [])];
    if (image && image.kind !== 'file') reply.image_url = image.url;
    // A file goes as a link to it: channels show links everywhere.
    else if (image) buttons.push({ title: `📎 ${image.name || 'file'}`, url: new URL(image.url, location.href).href });
    if (button) buttons.push(button);
    if (buttons.length) reply.buttons = buttons;
    void run(() => api.sendMessage(h.id, reply));
  }

  function onKey(e: KeyboardEvent<HTMLTextAreaElement>) {
    if (slash !== null && picks.current.length) {
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        const n = picks.current.length;
        setPickIndex((i) => (i + (e.key === 'ArrowDown' ? 1 : n - 1)) % n);
        return;
      }
      if (e.key === 'Enter' || e.key === 'Tab') {
        e.preventDefault();
        pickCanned(picks.current[Math.min(pickIndex, picks.current.length - 1)]);
        return;
      }
    }
    if (e.key === 'Escape') setPanel('');
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      send();
    }
  }

  const toggle = (p: Panel) => setPanel((x) => (x === p ? '' : p));
  return (
    <div className={`composer composer-${mode}`}>
      <div className="composer-tabs" role="tablist">
        <button type="button" role="tab" aria-selected={mode === 'reply'} onClick={() => setMode('reply')}>Reply</button>
        <button type="button" role="tab" aria-selected={mode === 'note'} onClick={() => setMode('note')}>Internal note</button>
      </div>
      {mode === 'reply' && windowClosed && (
        <Notice kind="warn">The channel's reply window has closed: free text will be refused. Send a skill, or wait for the customer to write.</Notice>
      )}
      {error && <Notice kind="error">{error}</Notice>}
      {slash !== null && (
        <CannedPicker bot={h.bot} query={slash} active={pickIndex} onActive={setPickIndex} onPick={pickCanned}
          onList={(l) => {
            picks.current = l;
            setPickIndex(0);
          }} />
      )}
      {panel === 'emoji' && <EmojiPicker onPick={(e) => insert(e)} />}
      {panel === 'attach' && <AttachPanel onDone={(m) => { setImage(m); setPanel(''); }} />}
      {panel === 'link' && <LinkPanel onDone={(b) => { setButton(b); setPanel(''); }} />}
      {panel === 'skill' && <SkillPicker bot={h.bot} onClose={() => setPanel('')} onPick={(s) => void run(() => api.sendSkill(h.id, s))} />}
      <div className="attachments">
        {canned && <span className="chip">canned: {canned.title} <button type="button" aria-label="Remove canned reply" onClick={() => { setCanned(null); }}>×</button></span>}
        {image && <span className="chip">{image.kind === 'file' ? '📎' : '🖼'} {image.name || image.url} <button type="button" aria-label="Remove attachment" onClick={() => setImage(null)}>×</button></span>}
        {button && <span className="chip">🔗 {button.title} <button type="button" aria-label="Remove link button" onClick={() => setButton(null)}>×</button></span>}
      </div>
      <textarea ref={input} className="composer-input" rows={3} value={text} onChange={(e) => setText(e.target.value)} onKeyDown={onKey}
        aria-label={mode === 'reply' ? 'Reply to the customer' : 'Internal note'}
        placeholder={mode === 'reply' ? 'Type a reply… ("/" for canned replies; Enter sends, Shift+Enter for a new line)' : 'A note for your team (never sent to the customer)'} />
      <div className="composer-bar">
        {mode === 'reply' ? (
          <>
            <button type="button" title="Emoji" onClick={() => toggle('emoji')}>Emoji</button>
            <button type="button" title="Image or file" onClick={() => toggle('attach')}>Attach</button>
            <button type="button" title="Link button" onClick={() => toggle('link')}>Link</button>
            <button type="button" title="Send a skill of the bot" onClick={() => toggle('skill')}>Skill</button>
            <button type="button" title="Canned replies" onClick={() => { setText('/'); input.current?.focus(); }}>/ Canned</button>
          </>
        ) : (
          <span className="note-colors" role="radiogroup" aria-label="Note colour">
            {NOTE_COLORS.map((c) => (
              <button type="button" key={c} role="radio" aria-checked={color === c} aria-label={c} className={`swatch note-${c} ${color === c ? 'on' : ''}`} onClick={() => setColor(c)} />
            ))}
          </span>
        )}
        <span className="spacer" />
        <button type="button" className="primary" disabled={busy} onClick={send}>{mode === 'reply' ? 'Send' : 'Add note'}</button>
      </div>
    </div>
  );
}

function AttachPanel({ onDone }: { onDone: (m: { url: string; name?: string; kind?: string }) => void }) {
  const [url, setUrl] = useState('');
  const [kind, setKind] = useState('image');
  const [error, setError] = useState('');
  const [uploading, setUploading] = useState(false);
  async function onFile(f: File | undefined) {
    if (!f) return;
    setUploading(true);
    setError('');
    try {
      const m = await api.upload(f);
      onDone({ url: m.url, name: m.name || f.name, kind: m.kind || (f.type.startsWith('image/') ? 'image' : 'file') });
    } catch (e) {
      setError(e instanceof api.ApiError && e.missing ? 'This server does not take uploads from the console yet: give the file’s URL instead.' : errorText(e));
    } finally {
      setUploading(false);
    }
  }
  return (
    <div className="popover attach-panel">
      <label>
        Upload an image or a file
        <input type="file" accept="image/png,image/jpeg,image/gif,image/webp,application/pdf,text/plain" disabled={uploading} onChange={(e) => void onFile(e.target.files?.[0])} />
      </label>
      {error && <Notice kind="warn">{error}</Notice>}
      <form className="row" onSubmit={(e) => {
        e.preventDefault();
        if (url.trim()) onDone({ url: url.trim(), kind, name: url.trim().split('/').pop() });
      }}>
        <select aria-label="Kind" value={kind} onChange={(e) => setKind(e.target.value)}>
          <option value="image">image</option>
          <option value="file">file</option>
        </select>
        <input type="url" placeholder="https://… (or a URL)" aria-label="Attachment URL" value={url} onChange={(e) => setUrl(e.target.value)} />
        <button type="submit">Attach</button>
      </form>
    </div>
  );
}

function LinkPanel({ onDone }: { onDone: (b: { title: string; url: string }) => void }) {
  const [title, setTitle] = useState('');
  const [url, setUrl] = useState('');
  return (
    <form className="popover link-panel row" onSubmit={(e) => {
      e.preventDefault();
      if (title.trim() && /^https?:\/\//i.test(url.trim())) onDone({ title: title.trim(), url: url.trim() });
    }}>
      <input placeholder="Button title" aria-label="Button title" value={title} onChange={(e) => setTitle(e.target.value)} required />
      <input type="url" placeholder="https://…" aria-label="Button URL" value={url} onChange={(e) => setUrl(e.target.value)} required pattern="https?://.*" />
      <button type="submit">Add button</button>
    </form>
  );
}
