// The API client: one function per endpoint of /api/v1 the console uses.
//
// Sign-in sets an HttpOnly session cookie, so requests go with
// credentials: 'same-origin' and state-changing ones carry the CSRF token
// (X-CSRF-Token, from the sign-in answer or the sb_csrf cookie). A server
// whose sign-in answers no csrf_token has no cookie sessions: the console
// then sends the token of the answer as a Bearer token, kept in
// sessionStorage for the tab (see bearerMode).
import type {
  AgentPresence, Analytics, Bot, CannedReply, Contact, Handover, LiveChatSettings,
  LoginResult, Me, Message, Presence, Team,
} from './types';

export const API = '/api/v1';

/** ApiError is a failed request: the HTTP status and the server's error code and message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
  /**
   * missing reports an endpoint this server does not have (yet): the
   * router's 404 ("no such endpoint"), not a 404 about a thing (a
   * handover that is gone), or 501 (live chat not running).
   */
  get missing(): boolean {
    if (this.status === 404) return this.code === '' || (this.code === 'not_found' && this.message.startsWith('no such endpoint'));
    return this.status === 405 || this.status === 501;
  }
}

const TOKEN_KEY = 'sb_token';
let csrfToken = '';

function readCookie(name: string): string {
  for (const part of document.cookie.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return '';
}

/** bearerToken is the token of a server without cookie sessions, else "". */
export function bearerToken(): string {
  return sessionStorage.getItem(TOKEN_KEY) ?? '';
}

function csrf(): string {
  return csrfToken || readCookie('sb_csrf');
}

type Query = Record<string, string | number | boolean | undefined | null>;

function withQuery(path: string, q?: Query): string {
  if (!q) return path;
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) {
    if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  }
  const s = p.toString();
  return s ? `${path}?${s}` : path;
}

/** onUnauthorized is called when a request answers 401 (the session ended). */
let onUnauthorized: (() => void) | null = null;
export function setUnauthorizedHandler(f: (() => void) | null) {
  onUnauthorized = f;
}

export async function request<T>(method: string, path: string, body?: unknown, init?: { query?: Query; raw?: BodyInit; signal?: AbortSignal }): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD') {
    const t = csrf();
    if (t) headers['X-CSRF-Token'] = t;
  }
  const bearer = bearerToken();
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  let resp: Response;
  try {
    resp = await fetch(withQuery(path, init?.query), {
      method,
      headers,
      credentials: 'same-origin',
      body: init?.raw ?? (body === undefined ? undefined : JSON.stringify(body)),
      signal: init?.signal,
    });
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiError(0, 'network', 'The server cannot be reached: check your connection.');
  }
  if (resp.status === 204) return undefined as T;
  const text = await resp.text();
  let data: unknown = undefined;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = undefined;
    }
  }
  if (!resp.ok) {
    const err = (data as { error?: { code?: string; message?: string; details?: unknown } } | undefined)?.error;
    const e = new ApiError(resp.status, err?.code ?? '', err?.message ?? `${method} ${path}: ${resp.status} ${resp.statusText}`, err?.details);
    if (resp.status === 401 && !path.endsWith('/auth/login')) onUnauthorized?.();
    throw e;
  }
  return data as T;
}

const get = <T>(path: string, query?: Query, signal?: AbortSignal) => request<T>('GET', API + path, undefined, { query, signal });
const post = <T>(path: string, body: unknown = {}) => request<T>('POST', API + path, body);
const put = <T>(path: string, body: unknown) => request<T>('PUT', API + path, body);
const patch = <T>(path: string, body: unknown) => request<T>('PATCH', API + path, body);
const del = <T>(path: string) => request<T>('DELETE', API + path);
const seg = encodeURIComponent;

// Sessions.

export async function login(email: string, password: string): Promise<LoginResult> {
  const r = await post<LoginResult>('/auth/login', { email, password });
  if (r.csrf_token) {
    csrfToken = r.csrf_token;
    sessionStorage.removeItem(TOKEN_KEY);
  } else {
    // No cookie sessions on this server: use the token.
    sessionStorage.setItem(TOKEN_KEY, r.token);
  }
  return r;
}

export async function logout(): Promise<void> {
  try {
    await post<void>('/auth/logout');
  } finally {
    csrfToken = '';
    sessionStorage.removeItem(TOKEN_KEY);
  }
}

export const getMe = () => get<Me>('/me');
export const setPresence = (presence: Presence) => post<unknown>('/me/presence', { presence });
export const listPresence = () => get<{ agents: AgentPresence[] }>('/presence');

// Handovers.

export interface HandoverQuery extends Query {
  status?: string;
  queue?: string;
  assignee?: string;
  bot?: string;
  tag?: string;
  channel?: string;
  q?: string;
  contact?: string;
  cursor?: string;
  limit?: number;
}

export const listHandovers = (q: HandoverQuery, signal?: AbortSignal) =>
  get<{ handovers: Handover[]; next_cursor?: string }>('/handovers', q, signal);
export const getHandover = (id: string) => get<Handover>(`/handovers/${seg(id)}`);
/** assign assigns to agent; "" assigns to the signed-in agent. */
export const assign = (id: string, agent = '') => post<Handover>(`/handovers/${seg(id)}/assign`, { agent });
export const unassign = (id: string) => post<Handover>(`/handovers/${seg(id)}/unassign`);
export const transfer = (id: string, to: { agent?: string; team?: string; note: string }) =>
  post<Handover>(`/handovers/${seg(id)}/transfer`, to);

/** Reply is an agent's message (the server's livechat.Reply). */
export interface Reply {
  text?: string;
  /** canned sends that canned reply (its text, button and image), counted. */
  canned?: string;
  image_url?: string;
  buttons?: { title: string; url: string }[];
}
export const sendMessage = (id: string, reply: Reply) =>
  post<{ message: Message; handover: Handover }>(`/handovers/${seg(id)}/messages`, reply);
export const addNote = (id: string, text: string, color: string) =>
  post<Handover>(`/handovers/${seg(id)}/notes`, { text, color });
export const resolve = (id: string, note: string) => post<Handover>(`/handovers/${seg(id)}/resolve`, { note });
export const close = (id: string) => post<Handover>(`/handovers/${seg(id)}/close`);
export const sendSkill = (id: string, skill: string) =>
  post<{ messages: Message[]; handover: Handover }>(`/handovers/${seg(id)}/skill`, { skill });
export const patchHandover = (id: string, p: { tags?: string[]; status?: 'pending' }) =>
  patch<Handover>(`/handovers/${seg(id)}`, p);
export const analytics = (q: { bot?: string; queue?: string; from?: string; to?: string }) =>
  get<Analytics>('/handovers/analytics', q);

// Contacts and conversations.

export const getContact = (id: string) => get<Contact>(`/contacts/${seg(id)}`);
export const patchContact = (id: string, p: { name?: string; attributes?: Record<string, unknown>; tags?: string[] }) =>
  patch<Contact>(`/contacts/${seg(id)}`, p);
export const banContact = (id: string, ban: boolean) => post<Contact>(`/contacts/${seg(id)}/${ban ? 'ban' : 'unban'}`);
export const listMessages = (contact: string, q: { before?: string; after?: string; limit?: number }) =>
  get<{ messages: Message[]; next_cursor?: string }>(`/contacts/${seg(contact)}/messages`, q);

/** allMessages pages through a whole conversation (for export), oldest first. */
export async function allMessages(contact: string): Promise<Message[]> {
  const out: Message[] = [];
  let after = '0';
  for (let i = 0; i < 1000; i++) {
    const page = await listMessages(contact, { after, limit: 200 });
    out.push(...page.messages);
    if (!page.next_cursor) break;
    after = page.next_cursor;
  }
  return out;
}

// Canned replies.

/** CannedInput is a canned reply as written (the server's shape). */
export interface CannedInput {
  bot: string;
  title: string;
  shortcut: string;
  text: string;
  button_title: string;
  button_url: string;
  image_url: string;
}
export const listCanned = (q: { bot?: string; q?: string }) =>
  get<{ canned_replies: CannedReply[] }>('/canned-replies', q);
export const createCanned = (c: CannedInput) => post<CannedReply>('/canned-replies', c);
export const updateCanned = (id: string, c: Partial<CannedInput>) => patch<CannedReply>(`/canned-replies/${seg(id)}`, c);
export const deleteCanned = (id: string) => del<void>(`/canned-replies/${seg(id)}`);

// Bots and their live-chat settings.

export const listBots = () => get<{ bots: Bot[] }>('/bots');
export const listTeams = () => get<{ teams: Team[] }>('/teams');
export const getBot = (id: string) => get<Bot>(`/bots/${seg(id)}`);
export const getLiveChat = (bot: string) => get<LiveChatSettings>(`/bots/${seg(bot)}/live-chat`);
export const putLiveChat = (bot: string, s: LiveChatSettings) => put<LiveChatSettings>(`/bots/${seg(bot)}/live-chat`, s);

/** upload sends a file for an agent reply, where the server takes agent uploads. */
export async function upload(file: File): Promise<{ url: string; kind?: string; name?: string }> {
  const form = new FormData();
  form.set('file', file);
  return request('POST', API + '/uploads', undefined, { raw: form });
}
