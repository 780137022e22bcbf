// Export of a conversation, built in the browser from the messages API.
import type { Handover, Message } from '../types';

function messageText(m: Message): string {
  const c = m.content ?? {};
  const parts: string[] = [];
  if (c.text) parts.push(c.text);
  if (c.payload && !c.text) parts.push(`[payload ${c.payload}]`);
  for (const b of [...(c.buttons ?? []), ...(c.quick_replies ?? [])]) parts.push(`[button ${b.title}${b.url ? ` ${b.url}` : ''}]`);
  if (c.image) parts.push(`[image ${c.image.url}]`);
  if (c.file) parts.push(`[file ${c.file.name ?? ''} ${c.file.url}]`.replace('  ', ' '));
  for (const a of c.attachments ?? []) parts.push(`[${a.kind ?? 'file'} ${a.url}]`);
  return parts.join(' ');
}

function csvCell(v: string | number | undefined): string {
  let s = v === undefined ? '' : String(v);
  // No formula injection when the file is opened in a spreadsheet.
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export function toCSV(messages: Message[]): string {
  const rows = [['time', 'seq', 'direction', 'author', 'agent', 'channel', 'status', 'text']];
  for (const m of messages) {
    rows.push([m.time, String(m.seq), m.direction, m.author, m.agent_name ?? '', m.channel ?? '', m.status ?? '', messageText(m)]);
  }
  return rows.map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n';
}

export function toJSON(h: Handover, messages: Message[]): string {
  return JSON.stringify({ exported_at: new Date().toISOString(), handover: h, contact: h.contact, messages }, null, 2) + '\n';
}

export function exportName(h: Handover, ext: string): string {
  const who = (h.contact?.name || h.contact?.id || 'contact').replace(/[^\w.-]+/g, '_').slice(0, 40);
  return `conversation-${who}-${h.id}.${ext}`;
}
