// The conversation as the agent reads it: customer, bot, agent and system
// messages told apart, with the internal notes and status changes in
// between, by time. Everything is rendered as text.
import { useEffect, useRef } from 'react';
import type { Handover, Media, Message, Note, Transition } from '../types';
import { clock, ms, safeLink, sameOrigin } from '../util';

type Item =
  | { kind: 'message'; at: number; m: Message }
  | { kind: 'note'; at: number; n: Note }
  | { kind: 'transition'; at: number; t: Transition };

const AUTHOR_LABEL: Record<string, string> = { user: 'Customer', bot: 'Bot', agent: 'Agent', system: 'System' };
/** NOTE_COLORS are the colours a note may have (the server's list). */
export const NOTE_COLORS = ['yellow', 'green', 'blue', 'pink', 'purple', 'orange', 'grey'] as const;

export function Timeline({ messages, handover, highlight }: { messages: Message[]; handover: Handover; highlight: string }) {
  const items: Item[] = [
    ...messages.map((m) => ({ kind: 'message' as const, at: ms(m.time) ?? 0, m })),
    ...(handover.notes ?? []).map((n) => ({ kind: 'note' as const, at: ms(n.time) ?? 0, n })),
    ...(handover.history ?? []).map((t) => ({ kind: 'transition' as const, at: ms(t.at) ?? 0, t })),
  ].sort((a, b) => a.at - b.at);
  // Agent messages name their agent by id: the names the handover knows.
  const names = new Map<string, string>();
  if (handover.assignee && handover.assignee_name) names.set(handover.assignee, handover.assignee_name);
  for (const n of handover.notes ?? []) if (n.author_name) names.set(n.author, n.author_name);
  for (const t of handover.history ?? []) if (t.by && t.by_name) names.set(t.by, t.by_name);
  const agentName = (id?: string) => (id ? names.get(id) : undefined);
  const end = useRef<HTMLDivElement>(null);
  const last = items.length ? items[items.length - 1].at : 0;
  // Follow the newest item (not when earlier messages are loaded above).
  useEffect(() => {
    end.current?.scrollIntoView?.({ block: 'end' });
  }, [last]);
  return (
    <div className="timeline" aria-live="polite">
      {items.map((it) => {
        switch (it.kind) {
          case 'message':
            return <MessageView key={`m${it.m.seq}-${it.m.id ?? ''}`} m={it.m} highlight={highlight} agentName={agentName} />;
          case 'note':
            return <NoteView key={`n${it.n.id}`} n={it.n} />;
          case 'transition':
            return <TransitionView key={`t${it.t.at}${it.t.to}`} t={it.t} />;
        }
      })}
      <div ref={end} />
    </div>
  );
}

function MessageView({ m, highlight, agentName }: { m: Message; highlight: string; agentName?: (id?: string) => string | undefined }) {
  const c = m.content ?? {};
  const who = (m.author === 'agent' && (m.agent_name || agentName?.(m.agent))) || AUTHOR_LABEL[m.author] || m.author;
  const hit = highlight && JSON.stringify(c).toLowerCase().includes(highlight.toLowerCase());
  return (
    <div className={`msg msg-${m.author} msg-${m.direction} ${hit ? 'hit' : ''} ${m.status === 'failed' ? 'failed' : ''}`} data-seq={m.seq}>
      <div className="msg-head">
        <span className="msg-author">{who}</span>
        <time dateTime={m.time}>{clock(m.time)}</time>
        {m.status && m.status !== 'sent' && m.status !== 'received' && <span className="msg-status">{m.status}</span>}
      </div>
      {c.text && <div className="msg-text">{c.text}</div>}
      {!c.text && c.payload && <div className="msg-text muted">[{c.payload}]</div>}
      {c.image && <MediaView m={c.image} image />}
      {c.media && <MediaView m={c.media} image={c.media.kind === 'image'} />}
      {c.file && <MediaView m={c.file} />}
      {c.attachments?.map((a, i) => <MediaView key={i} m={a} image={a.kind === 'image'} />)}
      {c.gallery?.map((g, i) => <div key={i} className="msg-card"><strong>{g.title}</strong> {g.subtitle}</div>)}
      {(c.buttons?.length || c.quick_replies?.length) ? (
        <div className="msg-buttons">
          {[...(c.buttons ?? []), ...(c.quick_replies ?? [])].map((b, i) => {
            const href = safeLink(b.url);
            return href
              ? <a key={i} className="chip" href={href} target="_blank" rel="noopener noreferrer">{b.title} ↗</a>
              : <span key={i} className="chip">{b.title}</span>;
          })}
        </div>
      ) : null}
      {m.error && <div className="msg-error">{m.error}</div>}
    </div>
  );
}

/**
 * MediaView shows images from this server inline; anything else is a link (no third-party loads from the console).
 * A customer's file that only the channel can fetch comes from this server at its proxy_url: an image inline, a file to download.
 */
function MediaView({ m, image = false }: { m: Media; image?: boolean }) {
  const proxied = m.proxy_url && sameOrigin(m.proxy_url) ? safeLink(m.proxy_url) : '';
  if (proxied && image) {
    return (
      <a href={proxied} target="_blank" rel="noopener noreferrer" className="msg-image">
        <img src={proxied} alt={m.caption || m.name || 'image'} loading="lazy" />
      </a>
    );
  }
  if (proxied) {
    return (
      <a className="msg-file" href={proxied} download={m.name || ''}>
        📎 {m.name || m.caption || `${m.kind || 'file'} from the customer`}
      </a>
    );
  }
  const href = safeLink(m.url);
  if (!href) return <div className="msg-file muted">{m.name || 'attachment'}</div>;
  if (image && sameOrigin(href)) {
    return (
      <a href={href} target="_blank" rel="noopener noreferrer" className="msg-image">
        <img src={href} alt={m.caption || m.name || 'image'} loading="lazy" />
      </a>
    );
  }
  return (
    <a className="msg-file" href={href} target="_blank" rel="noopener noreferrer">
      {image ? '🖼 ' : '📎 '}{m.name || m.caption || href}
    </a>
  );
}

function NoteView({ n }: { n: Note }) {
  const color = (NOTE_COLORS as readonly string[]).includes(n.color ?? '') ? n.color : 'yellow';
  return (
    <div className={`note note-${color}`} data-note={n.id}>
      <div className="msg-head">
        <span className="msg-author">Note · {n.author_name || n.author}</span>
        <time dateTime={n.time}>{clock(n.time)}</time>
      </div>
      <div className="msg-text">{n.text}</div>
    </div>
  );
}

function TransitionView({ t }: { t: Transition }) {
  return (
    <div className="transition">
      {t.from ? `${t.from} → ${t.to}` : t.to}
      {(t.by_name || t.by) && ` by ${t.by_name || t.by}`} · {clock(t.at)}
      {t.note && <span className="transition-note"> — {t.note}</span>}
    </div>
  );
}
