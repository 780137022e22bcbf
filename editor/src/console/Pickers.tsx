// The composer's pickers: emoji, canned replies (typing "/"), skills.
import { useEffect, useState } from 'react';
import * as api from '../api';
import { cannedButton, cannedImage, type CannedReply } from '../types';
import { ErrorNotice } from '../components/Notice';

const EMOJI = ['😀', '😊', '🙂', '😉', '😄', '😅', '🤔', '😔', '😢', '😮', '👍', '👎', '👋', '🙏', '👏', '🎉', '❤️', '✅', '❌', '⚠️', '⏳', '📦', '📞', '✉️', '💳', '🔒', '🚚', '⭐'];

export function EmojiPicker({ onPick }: { onPick: (e: string) => void }) {
  return (
    <div className="popover emoji-picker" role="listbox" aria-label="Emoji">
      {EMOJI.map((e) => (
        <button type="button" key={e} className="emoji" role="option" aria-selected="false" onClick={() => onPick(e)}>{e}</button>
      ))}
    </div>
  );
}

/** CannedPicker lists the bot's canned replies matching query; arrows and Enter pick. */
export function CannedPicker({ bot, query, active, onActive, onPick, onList }: {
  bot: string;
  query: string;
  active: number;
  onActive: (i: number) => void;
  onPick: (c: CannedReply) => void;
  onList: (l: CannedReply[]) => void;
}) {
  const [list, setList] = useState<CannedReply[]>([]);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    const t = window.setTimeout(() => {
      api.listCanned({ bot, q: query }).then(
        (r) => {
          const q = query.toLowerCase();
          // Filtered here too, so a server that ignores q still narrows.
          const l = (r.canned_replies ?? []).filter((c) =>
            !q || [c.title, c.shortcut, c.text].some((s) => (s ?? '').toLowerCase().includes(q)));
          setList(l);
          onList(l);
          setError(null);
        },
        (e) => setError(e),
      );
    }, 120);
    return () => window.clearTimeout(t);
  }, [bot, query]); // eslint-disable-line react-hooks/exhaustive-deps
  return (
    <div className="popover canned-picker" role="listbox" aria-label="Canned replies">
      <ErrorNotice error={error} what="Canned replies" />
      {!error && list.length === 0 && <p className="muted">No canned reply matches “{query}”.</p>}
      {list.map((c, i) => (
        <button type="button" role="option" aria-selected={i === active} key={c.id} className={`canned ${i === active ? 'active' : ''}`}
          onMouseEnter={() => onActive(i)} onClick={() => onPick(c)}>
          <span className="canned-title">{c.shortcut ? `/${c.shortcut.replace(/^\//, '')} · ` : ''}{c.title}</span>
          <span className="canned-text">{c.text}</span>
          {(cannedButton(c) || cannedImage(c)) && (
            <span className="muted">{cannedButton(c) ? `🔗 ${cannedButton(c)!.title} ` : ''}{cannedImage(c) ? '🖼 image' : ''}</span>
          )}
        </button>
      ))}
    </div>
  );
}

/** SkillPicker sends a skill of the bot as the answer. */
export function SkillPicker({ bot, onPick, onClose }: { bot: string; onPick: (skill: string) => void; onClose: () => void }) {
  const [skills, setSkills] = useState<string[]>([]);
  const [name, setName] = useState('');
  useEffect(() => {
    api.getBot(bot).then(
      (b) => setSkills((b.skills ?? []).filter((s) => !s.startsWith('/_'))),
      () => setSkills([]), // the name is typed
    );
  }, [bot]);
  return (
    <form className="popover skill-picker" onSubmit={(e) => {
      e.preventDefault();
      if (name.trim()) onPick(name.trim().startsWith('/') ? name.trim() : `/${name.trim()}`);
    }}>
      <label>
        Skill to run for the customer
        <input list="skills" value={name} onChange={(e) => setName(e.target.value)} placeholder="/track_order" autoFocus />
      </label>
      <datalist id="skills">{skills.map((s) => <option key={s} value={s} />)}</datalist>
      {skills.length > 0 && (
        <div className="chips">{skills.slice(0, 12).map((s) => <button type="button" className="chip" key={s} onClick={() => onPick(s)}>{s}</button>)}</div>
      )}
      <div className="row">
        <button type="submit" className="primary">Send skill</button>
        <button type="button" onClick={onClose}>Cancel</button>
      </div>
    </form>
  );
}
