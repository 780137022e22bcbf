// The JSON shapes of the API (runtime/api; see /api/v1/openapi.json).

export type Role = 'admin' | 'manager' | 'agent' | string;
export type Presence = 'online' | 'away' | 'offline';

export interface Me {
  id: string;
  name: string;
  email: string;
  role: Role;
  bots?: string[];
  teams?: string[];
  capacity?: number;
}

export interface LoginResult {
  token: string;
  expires_at: string;
  scopes: string[];
  csrf_token?: string;
  /** account is who signed in, as GET /me shows it. */
  account?: Me;
}

export interface Contact {
  id: string;
  bot: string;
  channel: string;
  external_id?: string;
  name?: string;
  attributes?: Record<string, unknown>;
  tags?: string[];
  status?: string;
  banned?: boolean;
}

export type HandoverStatus =
  | 'new' | 'assigned' | 'chatting' | 'pending' | 'overdue' | 'resolved' | 'closed';

export interface Note {
  id: string;
  author: string;
  author_name?: string;
  text: string;
  color?: string;
  time: string;
}

export interface Transition {
  from: string;
  to: string;
  by?: string;
  by_name?: string;
  at: string;
  note?: string;
}

export interface Handover {
  id: string;
  bot: string;
  contact: Contact;
  channel: string;
  queue?: string;
  priority?: string;
  status: HandoverStatus;
  assignee?: string;
  assignee_name?: string;
  message?: string;
  note?: string;
  form?: Record<string, unknown>;
  tags?: string[];
  created_at: string;
  assigned_at?: string | null;
  first_reply_at?: string | null;
  resolved_at?: string | null;
  closed_at?: string | null;
  resolve_note?: string;
  rating?: number | null;
  overdue_at?: string | null;
  outcome?: string;
  last_customer_at?: string | null;
  last_agent_at?: string | null;
  reply_window_ends_at?: string | null;
  idle_off_at?: string | null;
  notes?: Note[];
  history?: Transition[];
}

export interface Button {
  title: string;
  payload?: string;
  url?: string;
}

export interface Media {
  url: string;
  kind?: string;
  name?: string;
  caption?: string;
  mime?: string;
  size?: number;
  /** proxy_url is where this server serves a customer's file that only the channel can fetch (Telegram, WhatsApp): same origin, signed-in only. */
  proxy_url?: string;
}

export interface Content {
  text?: string;
  buttons?: Button[];
  quick_replies?: Button[];
  image?: Media;
  media?: Media;
  file?: Media;
  payload?: string;
  attachments?: Media[];
  gallery?: { title?: string; subtitle?: string; image?: string }[];
}

export type Author = 'user' | 'bot' | 'agent' | 'system';

export interface Message {
  contact: string;
  seq: number;
  id?: string;
  time: string;
  direction: 'in' | 'out';
  author: Author;
  /** agent is the account that sent an agent message; agent_name its name, where the server adds it. */
  agent?: string;
  agent_name?: string;
  channel?: string;
  status?: string;
  error?: string;
  content: Content;
}

// CannedReply as the server answers it: the link button and the image are
// button_title/button_url and image_url (older drafts of the contract had
// button {title, url} and image {url}: both are read, see cannedButton).
export interface CannedReply {
  id: string;
  bot: string;
  title: string;
  shortcut?: string;
  text: string;
  button_title?: string;
  button_url?: string;
  image_url?: string;
  button?: { title: string; url: string } | null;
  image?: { url: string } | null;
  sent?: number;
}

export function cannedButton(c: CannedReply): { title: string; url: string } | null {
  if (c.button?.url) return c.button;
  return c.button_url ? { title: c.button_title || c.button_url, url: c.button_url } : null;
}

export function cannedImage(c: CannedReply): string {
  return c.image?.url || c.image_url || '';
}

export interface AgentPresence {
  id: string;
  name: string;
  presence: Presence;
  open_chats?: number;
  capacity?: number;
}

export interface Durations {
  /** count is how many the figures are of (0: none, the figures mean nothing). */
  count?: number;
  median_s?: number | null;
  p90_s?: number | null;
}

/** Group is one agent's or one queue's figures (the server's shape; agent/queue, median_first_reply_s and rating_avg are read too). */
export interface Group {
  key?: string;
  agent?: string;
  queue?: string;
  name?: string;
  handovers: number;
  resolved?: number;
  time_to_first_reply?: Durations;
  time_to_resolve?: Durations;
  median_first_reply_s?: number | null;
  rating_count?: number;
  rating_average?: number | null;
  rating_avg?: number | null;
}

export interface Analytics {
  per_day?: { day: string; count: number }[];
  time_to_assign?: Durations;
  time_to_first_reply?: Durations;
  time_to_resolve?: Durations;
  handovers?: number;
  by_agent?: Group[];
  by_queue?: Group[];
  ratings?: { count: number; average?: number | null; counts?: Record<string, number> };
}

export interface LiveChatSettings {
  idle_off: string;
  resolve_message: string;
  rating: boolean;
  offline_message: string;
  notify_webhook: string;
  notify_after: string;
}

/** Team is a team of agents, which is also a live-chat queue. */
export interface Team {
  id: string;
  name?: string;
}

export interface Bot {
  id: string;
  name: string;
  version?: string;
  /** skills are the names of the bot's skills (for the skill picker). */
  skills?: string[];
}

// LiveEvent is one frame of /ws.
export interface LiveEvent {
  id?: string;
  type: 'contact' | 'message' | 'handover' | 'handover_end' | 'subscribed' | 'error' | string;
  bot?: string;
  contact?: Contact;
  message?: Message;
  handover?: Handover;
  error?: { code: string; message: string };
}
