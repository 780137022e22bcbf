// Browser test of the console's screens against the API contract of issue
// 4, with the live chat endpoints (handovers, canned replies, presence,
// analytics, /ws) answered by stubs in the page: it checks what the
// console does with those answers (rendering, the requests it makes, live
// updates), whatever parts of the backend have landed. The pages come from
// the real `switchboard serve` started by e2e/console_browser_test.go.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const base = process.env.SWITCHBOARD_URL;
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const T = 15_000;
const CSRF = 'csrf-stub-token';
// SCREENSHOTS=dir saves a picture of each screen there.
const shots = process.env.SCREENSHOTS;
const shot = (page, name) => shots && page.screenshot({ path: join(shots, `console-${name}.png`) });

let context;
let profile;

before(async () => {
  assert.ok(base, 'SWITCHBOARD_URL is not set: run this through `go test ./e2e -run TestConsoleBrowser`');
  profile = await mkdtemp(join(tmpdir(), 'switchboard-console-contract-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    timeout: 60_000,
    acceptDownloads: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run'],
  });
  context.setDefaultTimeout(T);
  assert.ok(existsSync(executablePath));
});

after(async () => {
  await context?.close();
  if (profile) await rm(profile, { recursive: true, force: true });
});

const ago = (s) => new Date(Date.now() - s * 1000).toISOString();
const later = (s) => new Date(Date.now() + s * 1000).toISOString();
const me = { id: 'acc_me', name: 'Ada Agent', email: 'ada@example.com', role: 'manager', bots: ['support'], teams: ['support'], capacity: 3 };
const contact = { id: 'c1', bot: 'support', channel: 'webchat', external_id: 'v-1', name: 'Grace', attributes: { plan: 'pro', orders: 3 }, tags: ['vip'], status: 'active', banned: false };

function handover(over = {}) {
  return {
    id: 'h1', bot: 'support', contact, channel: 'webchat', queue: 'support', priority: 'normal', status: 'new',
    assignee: '', assignee_name: '', message: 'Where is my order?', note: 'Asked from the web', form: {}, tags: [],
    created_at: ago(200), reply_window_ends_at: later(3600 * 5), idle_off_at: null,
    notes: [{ id: 'n1', author: 'acc_boss', author_name: 'Boss', text: 'VIP customer, be nice', color: 'pink', time: ago(150) }],
    history: [{ from: '', to: 'new', by: '', at: ago(200) }],
    ...over,
  };
}

const messages = [
  { contact: 'c1', seq: 1, time: ago(260), direction: 'in', author: 'user', channel: 'webchat', content: { text: 'hi' } },
  { contact: 'c1', seq: 2, time: ago(250), direction: 'out', author: 'bot', channel: 'webchat', content: { text: 'How can I help?', buttons: [{ title: 'Talk to a human', payload: '/_start_live_chat' }] } },
  { contact: 'c1', seq: 3, time: ago(240), direction: 'in', author: 'user', channel: 'webchat', content: { text: '<img src=x onerror="window.__xss=1">' } },
  { contact: 'c1', seq: 4, time: ago(210), direction: 'out', author: 'system', channel: 'webchat', content: { text: 'You are being transferred to an agent' } },
  // Files from a channel only the server can fetch from (Telegram): their proxy_url is on this server.
  { contact: 'c1', seq: 5, time: ago(205), direction: 'in', author: 'user', channel: 'tg', content: { attachments: [
    { url: 'telegram-file:AgAD-photo', kind: 'image', proxy_url: '/api/v1/contacts/c1/messages/5/attachments/0' },
    { url: 'telegram-file:BQAD-doc', kind: 'file', name: 'invoice.pdf', proxy_url: '/api/v1/contacts/c1/messages/5/attachments/1' },
  ] } },
];

// png is a 1×1 image, as the attachment endpoint serves a photo.
const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

const canned = [
  { id: 'cr1', bot: 'support', title: 'Greeting', shortcut: 'hello', text: 'Hello! I am looking into it.', sent: 4 },
  { id: 'cr2', bot: 'support', title: 'Refund policy', shortcut: 'refund', text: 'Refunds take 5 days.', button_title: 'Policy', button_url: 'https://example.com/refunds', sent: 1 },
];

// stub answers the live chat API; requests are recorded.
async function stub(page) {
  const calls = [];
  let current = handover();
  // Handovers pushed over the socket exist on the "server" too: a list
  // fetched after the push has them, as a real one would.
  const others = new Map();
  const open = (h) => ['new', 'assigned', 'chatting', 'pending', 'overdue'].includes(h.status);
  await page.route('**/api/v1/**', async (route) => {
    const req = route.request();
    const url = new URL(req.url());
    const path = url.pathname.replace('/api/v1', '');
    const method = req.method();
    const body = req.postData() ? JSON.parse(req.postData()) : undefined;
    calls.push({ method, path, query: Object.fromEntries(url.searchParams), body, csrf: req.headers()['x-csrf-token'] });
    const json = (v, status = 200) => route.fulfill({ status, contentType: 'application/json', body: JSON.stringify(v) });
    const key = `${method} ${path}`;
    switch (true) {
      case key === 'POST /auth/login':
        return json({ token: 'sb_x', expires_at: later(3600), scopes: ['write'], csrf_token: CSRF, account: me });
      case key === 'GET /me':
        return json(me);
      case key === 'POST /auth/logout':
        return route.fulfill({ status: 204 });
      case key === 'GET /presence':
        return json({ agents: [{ id: 'acc_me', name: 'Ada Agent', presence: 'online', open_chats: 1, capacity: 3 }, { id: 'acc_bob', name: 'Bob', presence: 'away', open_chats: 0, capacity: 2 }] });
      case key === 'POST /me/presence':
        return json({ presence: body.presence });
      case key === 'GET /handovers':
        return json({ handovers: url.searchParams.get('status') === 'open' ? [current, ...others.values()].filter(open) : [], next_cursor: '' });
      case key === 'GET /handovers/h1':
        return json(current);
      case key === 'POST /handovers/h1/assign':
        current = handover({ status: 'assigned', assignee: body.agent || me.id, assignee_name: body.agent ? 'Bob' : me.name, assigned_at: ago(0) });
        return json(current);
      case key === 'POST /handovers/h1/messages': {
        const m = { contact: 'c1', seq: messages.length + 1, time: ago(0), direction: 'out', author: 'agent', agent_name: me.name, channel: 'webchat', status: 'sent', content: { text: body.text } };
        messages.push(m);
        current = handover({ ...current, status: 'chatting', first_reply_at: ago(0), last_agent_at: ago(0), idle_off_at: later(3600) });
        return json({ message: m, handover: current });
      }
      case key === 'POST /handovers/h1/notes':
        current = { ...current, notes: [...current.notes, { id: 'n2', author: me.id, author_name: me.name, text: body.text, color: body.color, time: ago(0) }] };
        return json(current);
      case key === 'POST /handovers/h1/resolve':
        current = handover({ ...current, status: 'resolved', resolved_at: ago(0), resolve_note: body.note });
        return json(current);
      case key === 'GET /contacts/c1/messages':
        return json({ messages, next_cursor: '' });
      case key === 'GET /contacts/c1/messages/5/attachments/0':
        return route.fulfill({ status: 200, contentType: 'image/png', body: png });
      case key === 'GET /canned-replies':
        return json({ canned_replies: canned });
      case key === 'GET /handovers/analytics':
        return json({
          per_day: [{ day: '2026-11-19', count: 3 }, { day: '2026-11-20', count: 7 }, { day: '2026-11-21', count: 2 }],
          time_to_assign: { count: 12, median_s: 40, p90_s: 300 }, time_to_first_reply: { count: 12, median_s: 75, p90_s: 420 }, time_to_resolve: { count: 0, median_s: 0, p90_s: 0 },
          by_agent: [{ key: 'acc_me', name: 'Ada Agent', handovers: 9, resolved: 8, time_to_first_reply: { count: 9, median_s: 60, p90_s: 200 }, rating_count: 4, rating_average: 4.5 }],
          by_queue: [{ key: 'support', handovers: 12, resolved: 10, time_to_first_reply: { count: 12, median_s: 75, p90_s: 300 }, rating_count: 0, rating_average: 0 }],
          ratings: { count: 6, average: 4.3, counts: { 5: 3, 4: 2, 3: 1 } },
        });
      case key === 'GET /bots':
        return json({ bots: [{ id: 'support', name: 'Acme support', skills: ['/start', 'track', '/_default_fallback'] }] });
      case key === 'GET /bots/support':
        return json({ id: 'support', name: 'Acme support', skills: ['/start', 'track', '/_default_fallback'] });
      case key === 'POST /handovers/h1/skill':
        return json({ messages: [], handover: current });
      default:
        // No session on the real server: what is not stubbed answers 401
        // there, and the console would sign out.
        return json({ error: { code: 'not_stubbed', message: `${key} is not stubbed` } }, 418);
    }
  });
  let socket;
  let connections = 0;
  await page.routeWebSocket(/\/ws$/, (ws) => {
    socket = ws;
    connections++;
  });
  const push = (e) => {
    if (e.handover && e.handover.id !== 'h1') others.set(e.handover.id, e.handover);
    socket.send(JSON.stringify(e));
  };
  return {
    calls,
    push,
    // add makes a handover without telling the socket (missed events).
    add: (h) => others.set(h.id, h),
    drop: () => socket.close({ code: 1013, reason: 'try again later' }),
    connections: () => connections,
  };
}

test('console screens against the contract (stubbed live chat API)', async () => {
  const page = await context.newPage();
  await page.setViewportSize({ width: 1360, height: 860 });
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e}`));
  const api = await stub(page);

  // As after a sign-in: the CSRF cookie the page echoes (the session
  // cookie is HttpOnly, and /me is stubbed, so the shell comes at once).
  await context.addCookies([{ name: 'sb_csrf', value: CSRF, url: base }]);
  await page.goto(`${base}/console/`);
  await page.locator('.topbar').waitFor();
  assert.equal(await page.locator('.agent-name').textContent(), 'Ada Agent');

  // The queue: the open handover, waiting time counting, live updates.
  const item = page.locator('.queue-item[data-id=h1]');
  await item.waitFor();
  assert.match(await item.textContent(), /Grace.*new.*Where is my order\?.*waiting 3m/s);
  await page.waitForFunction(() => !!document.querySelector('.live.live-live'));
  api.push({ id: '1', type: 'handover', bot: 'support', contact: { ...contact, id: 'c2', name: 'Linus' },
    handover: handover({ id: 'h2', contact: { ...contact, id: 'c2', name: 'Linus' }, status: 'overdue', created_at: ago(1200), message: 'Hello?' }) });
  const h2 = page.locator('.queue-item[data-id=h2]');
  await h2.waitFor();
  assert.match(await h2.getAttribute('class'), /status-overdue/);
  assert.match(await page.title(), /^\(2\)/);
  // A resolved one leaves the open queue.
  api.push({ id: '2', type: 'handover', bot: 'support', handover: handover({ id: 'h2', status: 'resolved', contact: { ...contact, id: 'c2' } }) });
  await h2.waitFor({ state: 'detached' });

  // The socket drops; what happened meanwhile shows once it is back.
  api.drop();
  api.add(handover({ id: 'h3', contact: { ...contact, id: 'c3', name: 'Ken' }, created_at: ago(5), message: 'Missed me?' }));
  await page.locator('.queue-item[data-id=h3]').waitFor();
  assert.equal(api.connections(), 2);
  await page.locator('.live.live-live').waitFor();

  // The conversation: who said what, the note in its colour, text as text.
  await item.locator('a').click();
  await page.locator('.conversation').waitFor();
  await page.locator('.msg.msg-user', { hasText: 'hi' }).waitFor();
  await page.locator('.msg.msg-bot', { hasText: 'How can I help?' }).waitFor();
  await page.locator('.msg.msg-system', { hasText: 'transferred' }).waitFor();
  await page.locator('.note.note-pink', { hasText: 'VIP customer' }).waitFor();
  await page.locator('.msg.msg-user', { hasText: '<img src=x onerror="window.__xss=1">' }).waitFor();
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  // The customer's photo shows, from this server; the document is a download.
  await page.waitForFunction(() => document.querySelector('.msg-user img[src$="/api/v1/contacts/c1/messages/5/attachments/0"]')?.naturalWidth === 1);
  const doc = page.locator('.msg-user a.msg-file[href$="/api/v1/contacts/c1/messages/5/attachments/1"]');
  assert.equal(await doc.getAttribute('download'), 'invoice.pdf');
  assert.match(await doc.textContent(), /invoice\.pdf/);
  await page.locator('.countdown', { hasText: 'Reply window: 4h' }).waitFor();
  await page.locator('.contact-panel', { hasText: 'plan' }).waitFor();
  await shot(page, 'conversation');

  // Assign to me: the request, and the new state on screen.
  await page.getByRole('button', { name: 'Assign to me' }).click();
  await page.locator('.conversation-head .badge-assigned').waitFor();
  await item.locator('.badge-assigned').waitFor(); // the queue follows at once
  const assign = api.calls.find((c) => c.path === '/handovers/h1/assign');
  assert.deepEqual(assign.body, { agent: '' });
  assert.equal(assign.csrf, CSRF, 'state-changing requests carry the CSRF token');

  // "/" opens the canned replies; Enter picks one; Enter sends it.
  const box = page.getByLabel('Reply to the customer');
  await box.fill('/ref');
  await page.locator('.canned-picker .canned', { hasText: 'Refund policy' }).waitFor();
  await shot(page, 'canned');
  await box.press('Enter');
  assert.equal(await box.inputValue(), 'Refunds take 5 days.');
  await box.press('Enter');
  await page.locator('.msg.msg-agent', { hasText: 'Refunds take 5 days.' }).waitFor();
  const sent = api.calls.find((c) => c.path === '/handovers/h1/messages');
  assert.deepEqual(sent.body, { text: 'Refunds take 5 days.', canned: 'cr2' });

  // Emoji and a link button.
  await box.fill('Thanks ');
  await page.getByRole('button', { name: 'Emoji' }).click();
  await page.locator('.emoji-picker .emoji').first().click();
  assert.equal(await box.inputValue(), 'Thanks 😀');
  await page.getByRole('button', { name: 'Link' }).click();
  await page.getByLabel('Button title').fill('Track');
  await page.getByLabel('Button URL').fill('https://example.com/track');
  await page.getByRole('button', { name: 'Add button' }).click();
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  await page.waitForFunction(() => !document.querySelector('.attachments .chip'));
  const second = api.calls.filter((c) => c.path === '/handovers/h1/messages')[1];
  assert.deepEqual(second.body, { text: 'Thanks 😀', buttons: [{ title: 'Track', url: 'https://example.com/track' }] });

  // A skill of the bot, picked from its list.
  await page.getByRole('button', { name: 'Skill' }).click();
  await page.locator('.skill-picker .chip', { hasText: 'track' }).click();
  await page.waitForFunction(() => !document.querySelector('.skill-picker'));
  assert.deepEqual(api.calls.find((c) => c.path === '/handovers/h1/skill').body, { skill: 'track' });
  assert.equal(await page.locator('.skill-picker .chip', { hasText: '_default_fallback' }).count(), 0);

  // An internal note with its colour.
  await page.getByRole('tab', { name: 'Internal note' }).click();
  await page.getByRole('radio', { name: 'green' }).click();
  await page.getByLabel('Internal note').fill('Refund approved');
  await page.getByRole('button', { name: 'Add note' }).click();
  await page.locator('.note.note-green', { hasText: 'Refund approved' }).waitFor();

  // A message arriving live.
  api.push({ id: '3', type: 'message', bot: 'support', contact, message: { seq: 9, time: ago(0), direction: 'in', author: 'user', content: { text: 'Thank you!' } } });
  await page.locator('.msg.msg-user', { hasText: 'Thank you!' }).waitFor();

  // Export as CSV: built in the browser from the messages.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
  const csv = await readFile(await download.path(), 'utf8');
  assert.match(download.suggestedFilename(), /^conversation-Grace-h1\.csv$/);
  assert.match(csv, /^time,seq,direction,author,agent,channel,status,text\r\n/);
  assert.match(csv, /How can I help\? \[button Talk to a human\]/);

  // Resolve with a note.
  await page.getByRole('button', { name: 'Resolve' }).first().click();
  await page.getByLabel('Resolve note').fill('Refunded');
  await page.locator('.inline-form').getByRole('button', { name: 'Resolve' }).click();
  await page.locator('.conversation-head .badge-resolved').waitFor();
  await shot(page, 'resolved');
  assert.deepEqual(api.calls.find((c) => c.path === '/handovers/h1/resolve').body, { note: 'Refunded' });

  // Analytics: charts from the numbers.
  await page.getByRole('link', { name: 'Analytics', exact: true }).click();
  await page.locator('svg[aria-label="Handovers per day"] rect.bar').first().waitFor();
  assert.equal(await page.locator('svg[aria-label="Handovers per day"] rect.bar').count(), 3);
  await page.locator('.analytics', { hasText: 'Ada Agent' }).waitFor();
  // No resolved handover in the period: no figure, not a zero.
  await page.locator('svg[aria-label^="Durations"]', { hasText: 'median —' }).waitFor();
  await shot(page, 'analytics');

  // Presence goes to the server.
  await page.getByLabel('Presence').selectOption('away');
  await page.waitForFunction(() => true);
  await page.locator('.dot-away').waitFor();
  assert.ok(api.calls.some((c) => c.path === '/me/presence' && c.body.presence === 'away'));

  assert.deepEqual(problems, []);
  await page.close();
});
