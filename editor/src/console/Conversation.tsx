// One handover: the conversation, what the agent can do with it, the
// composer, and the contact beside it. Live events keep it current.
import { useCallback, useEffect, useState } from 'react';
import { useParams } from 'react-router';
import * as api from '../api';
import { live, useLiveEvents, useReconnected } from '../live';
import type { Handover, Message } from '../types';
import { ErrorNotice } from '../components/Notice';
import { Countdown } from '../components/Countdown';
import { Actions } from './Actions';
import { Composer } from './Composer';
import { ContactPanel } from './ContactPanel';
import { Timeline } from './Timeline';
import { StatusBadge } from '../components/StatusBadge';
import { contactName, isOpen } from './handover';

const PAGE = 100;

function mergeMessages(a: Message[], b: Message[]): Message[] {
  const bySeq = new Map<number, Message>();
  for (const m of [...a, ...b]) bySeq.set(m.seq, m);
  return [...bySeq.values()].sort((x, y) => x.seq - y.seq);
}

export function Conversation() {
  const { id = '' } = useParams();
  const [h, setH] = useState<Handover | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    setH(null);
    setError(null);
    api.getHandover(id).then(setH, setError);
  }, [id]);
  useLiveEvents((e) => {
    if (e.type === 'handover' && e.handover?.id === id) setH(e.handover);
  }, [id]);
  useReconnected(() => api.getHandover(id).then(setH, () => {}));
  // A change made here reaches the queue at once, before the socket's event.
  const change = useCallback((next: Handover) => live.dispatch({ type: 'handover', bot: next.bot, handover: next }), []);
  if (error) return <ErrorNotice error={error} what="This conversation" />;
  if (!h) return <p className="muted">Loading…</p>;
  return <HandoverView key={h.id} h={h} onChange={change} />;
}

function HandoverView({ h, onChange }: { h: Handover; onChange: (h: Handover) => void }) {
  const contact = h.contact?.id ?? '';
  const [messages, setMessages] = useState<Message[]>([]);
  const [older, setOlder] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [find, setFind] = useState('');

  useEffect(() => {
    api.listMessages(contact, { limit: PAGE }).then((r) => {
      // Merged: a message may have come over the socket meanwhile.
      setMessages((m) => mergeMessages(r.messages ?? [], m));
      setOlder(r.next_cursor ?? '');
    }, setError);
  }, [contact]);

  const loadOlder = useCallback(() => {
    api.listMessages(contact, { before: older, limit: PAGE }).then((r) => {
      setMessages((m) => mergeMessages(r.messages ?? [], m));
      setOlder(r.next_cursor ?? '');
    }, setError);
  }, [contact, older]);

  useReconnected(() => {
    api.listMessages(contact, { limit: PAGE }).then((r) => setMessages((m) => mergeMessages(m, r.messages ?? [])), () => {});
  });

  useLiveEvents((e) => {
    if (e.type === 'message' && e.message && (e.contact?.id === contact || e.message.contact === contact)) {
      setMessages((m) => mergeMessages(m, [{ ...e.message!, contact }]));
    }
  }, [contact]);

  return (
    <div className="conversation">
      <div className="conversation-main">
        <header className="conversation-head">
          <div className="row">
            <h2>{contactName(h)}</h2>
            <StatusBadge status={h.status} />
            {h.assignee && <span className="muted">with {h.assignee_name || h.assignee}</span>}
            <span className="spacer" />
            {isOpen(h) && <Countdown label="Reply window" at={h.reply_window_ends_at} passed="closed" warnBelow={3600} />}
            {isOpen(h) && <Countdown label="Auto-off" at={h.idle_off_at} />}
            {(h.status === 'new' || h.status === 'assigned') && !h.first_reply_at && <Countdown label="Overdue in" at={h.overdue_at} passed="now" warnBelow={120} />}
          </div>
          {h.message && <p className="handover-message">“{h.message}”</p>}
          {h.note && <p className="muted">{h.note}</p>}
          <Actions h={h} onChange={onChange} />
        </header>
        <div className="find row">
          <input type="search" aria-label="Find in this conversation" placeholder="Find in this conversation" value={find} onChange={(e) => setFind(e.target.value)} />
          {find && <span className="muted">{messages.filter((m) => JSON.stringify(m.content).toLowerCase().includes(find.toLowerCase())).length} found</span>}
        </div>
        <ErrorNotice error={error} what="Messages" />
        {older && <button type="button" className="linkish load-older" onClick={loadOlder}>Earlier messages</button>}
        <Timeline messages={messages} handover={h} highlight={find} />
        {h.status !== 'closed' && (
          <Composer h={h} onSent={(next) => {
            onChange(next);
            // The sent message arrives over the socket too; fetch the newest in case it is down.
            api.listMessages(contact, { limit: 20 }).then((r) => setMessages((m) => mergeMessages(m, r.messages ?? [])), () => {});
          }} />
        )}
      </div>
      <ContactPanel h={h} onHandover={onChange} />
    </div>
  );
}
