// What the screens need to know about a handover beyond its JSON.
import type { Handover, HandoverStatus } from '../types';
import { ms } from '../util';

export const OPEN: HandoverStatus[] = ['new', 'assigned', 'chatting', 'pending', 'overdue'];
export const STATUSES = ['open', ...OPEN, 'resolved', 'closed'] as const;

export function isOpen(h: Handover): boolean {
  return OPEN.includes(h.status);
}

export function contactName(h: Handover): string {
  const c = h.contact;
  return c?.name || c?.external_id || c?.id || 'Unknown contact';
}

/**
 * waiting is since when the customer waits for an agent, or null: since the
 * handover was made until someone replies, then since each customer
 * message the agent has not answered.
 */
export function waitingSince(h: Handover): number | null {
  if (!isOpen(h) || h.status === 'pending') return null;
  const created = ms(h.created_at);
  if (!h.first_reply_at) return created;
  const cust = ms(h.last_customer_at);
  const agent = ms(h.last_agent_at) ?? ms(h.first_reply_at);
  if (cust !== null && (agent === null || cust > agent)) return cust;
  return null;
}

export interface Filters {
  status: string;
  queue: string;
  assignee: string;
  tag: string;
  channel: string;
  bot: string;
  q: string;
}

/** matches reports whether a handover (from a live event) belongs in a list with filters f. */
export function matches(h: Handover, f: Filters, me: string): boolean {
  if (f.status === 'open' ? !isOpen(h) : f.status && h.status !== f.status) return false;
  if (f.queue && h.queue !== f.queue) return false;
  if (f.assignee) {
    const want = f.assignee === 'me' ? me : f.assignee === 'none' ? '' : f.assignee;
    if ((h.assignee ?? '') !== want) return false;
  }
  if (f.tag && !(h.tags ?? []).includes(f.tag)) return false;
  if (f.channel && h.channel !== f.channel) return false;
  if (f.bot && h.bot !== f.bot) return false;
  if (f.q) {
    const hay = [contactName(h), h.message, h.note, h.queue, ...(h.tags ?? [])].join(' ').toLowerCase();
    if (!hay.includes(f.q.toLowerCase())) return false;
  }
  return true;
}
