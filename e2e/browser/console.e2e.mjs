// Browser test of the live chat console (/console): playwright-core drives
// Debian's chromium against a running `switchboard serve` started by
// e2e/console_browser_test.go, which passes its address in SWITCHBOARD_URL
// and the admin's password in SWITCHBOARD_ADMIN_PASSWORD.
//
//   go test ./e2e -run TestConsoleBrowser     (or: make e2e)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const base = process.env.SWITCHBOARD_URL;
const password = process.env.SWITCHBOARD_ADMIN_PASSWORD;
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const T = 15_000;

let context;
let profile;

before(async () => {
  assert.ok(base, 'SWITCHBOARD_URL is not set: run this through `go test ./e2e -run TestConsoleBrowser`, which starts the server');
  assert.ok(password, 'SWITCHBOARD_ADMIN_PASSWORD is not set');
  assert.ok(existsSync(executablePath), `${executablePath} is missing: install Debian's chromium (make browser-deps)`);
  profile = await mkdtemp(join(tmpdir(), 'switchboard-console-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    timeout: 60_000,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run'],
  });
  context.setDefaultTimeout(T);
});

after(async () => {
  await context?.close();
  if (profile) await rm(profile, { recursive: true, force: true });
});

test('console: sign in, the shell and the empty queue, live socket, sign out', async () => {
  const page = context.pages()[0] || await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e}`));
  page.on('console', (m) => {
    // A CSP violation or a React error shows up here.
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) problems.push(`console error: ${m.text()}`);
  });

  // /console/ is the app, with a strict policy.
  const resp = await page.goto(`${base}/console/`);
  assert.equal(resp.status(), 200);
  const csp = resp.headers()['content-security-policy'] || '';
  assert.match(csp, /default-src 'self'/);
  assert.match(csp, /connect-src 'self' ws:\/\/\S+ wss:\/\/\S+;/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);

  // Signed out: the login page.
  await page.locator('.login-card').waitFor();
  await page.fill('input[name=email]', 'admin@localhost');
  await page.fill('input[name=password]', 'not the password');
  await page.click('button[type=submit]');
  await page.locator('.login-card .notice-error').waitFor();

  await page.fill('input[name=password]', password);
  await page.click('button[type=submit]');

  // The shell: navigation, the signed-in agent, presence.
  await page.locator('.topbar').waitFor();
  for (const name of ['Queue', 'Analytics', 'Settings']) {
    await page.getByRole('link', { name, exact: true }).waitFor();
  }
  const agent = await page.locator('.agent-name').textContent();
  assert.ok(agent && agent.length > 0, 'the signed-in agent is shown');
  const who = await page.locator('.agent-name').getAttribute('title');
  assert.match(who, /admin@localhost/);
  await page.getByLabel('Presence').waitFor();
  assert.match(page.url(), /\/console\/queue$/);

  // The queue: empty on a fresh server (or, before the handover API
  // lands, a notice that says so: never a blank page).
  const handovers = await page.evaluate(async () => (await fetch('/api/v1/handovers?status=open', { credentials: 'same-origin' })).status);
  if (handovers === 404 || handovers === 501) {
    await page.locator('.queue .unavailable').waitFor();
    console.log(`GET /api/v1/handovers answers ${handovers}: the live chat is not on this server yet, and the queue says so`);
  } else {
    assert.equal(handovers, 200, 'GET /api/v1/handovers with the session cookie');
    await page.locator('.queue .empty-state').waitFor();
  }

  // The live socket opens with the session.
  await page.locator('.live.live-live').waitFor();

  // Navigation stays in the app (history routing; the server answers
  // index.html for app routes).
  await page.getByRole('link', { name: 'Settings', exact: true }).click();
  await page.getByRole('heading', { name: 'Settings' }).waitFor();
  await page.reload();
  await page.getByRole('heading', { name: 'Settings' }).waitFor();
  await page.getByRole('link', { name: 'Queue', exact: true }).click();
  await page.locator('.queue').waitFor();

  // Sign out: back to the login page, and the session is gone for good.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.locator('.login-card').waitFor();
  await page.reload();
  await page.locator('.login-card').waitFor();
  const me = await page.evaluate(async () => (await fetch('/api/v1/me', { credentials: 'same-origin' })).status);
  assert.ok(me === 401 || me === 404, `GET /api/v1/me after signing out: ${me}, want 401`);

  assert.deepEqual(problems, [], 'no errors in the page');
});

test('console with the real live chat: a handover arrives live, assign, reply, note, resolve', async (t) => {
  const page = context.pages()[0] || await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e}`));
  await page.goto(`${base}/console/`);
  await page.locator('.login-card').waitFor();
  await page.fill('input[name=email]', 'admin@localhost');
  await page.fill('input[name=password]', password);
  await page.click('button[type=submit]');
  await page.locator('.live.live-live').waitFor();
  const status = await page.evaluate(async () => (await fetch('/api/v1/handovers?status=open', { credentials: 'same-origin' })).status);
  if (status !== 200) {
    t.skip(`GET /api/v1/handovers answers ${status}: no live chat on this server yet`);
    return;
  }
  // Signing in set the agent online, so the handover waits for them.
  await page.locator('.dot-online').waitFor();

  // A customer on the REST channel asks for a human.
  const sender = `console-e2e-${Date.now()}`;
  const say = async (message) => {
    const r = await fetch(`${base}/webhooks/rest/support/webhook`, { method: 'POST', body: JSON.stringify({ sender, message }) });
    assert.equal(r.status, 200, `REST webhook: ${r.status}`);
    return r.json();
  };
  await say('hi');
  const asked = Date.now();
  await say('Talk to a human');
  const item = page.locator('.queue-item', { hasText: sender });
  await item.waitFor({ timeout: 5000 });
  console.log(`the handover was in the queue ${Date.now() - asked} ms after the customer asked (no reload)`);

  await item.locator('a').click();
  await page.locator('.msg.msg-user', { hasText: 'Talk to a human' }).waitFor();
  await page.getByRole('button', { name: 'Assign to me' }).click();
  await page.locator('.conversation-head .badge-assigned').waitFor();
  await item.locator('.badge-assigned').waitFor();

  const box = page.getByLabel('Reply to the customer');
  await box.fill('Hello, I am looking into it');
  await box.press('Enter');
  await page.locator('.msg.msg-agent', { hasText: 'Hello, I am looking into it' }).waitFor();
  await page.locator('.conversation-head .badge-chatting').waitFor();

  // The customer's next message reaches the console live, not the bot.
  const botReply = await say('thanks!');
  assert.deepEqual(botReply, [], 'the bot stays silent during the live chat');
  await page.locator('.msg.msg-user', { hasText: 'thanks!' }).waitFor();

  await page.getByRole('tab', { name: 'Internal note' }).click();
  await page.getByRole('radio', { name: 'green' }).click();
  await page.getByLabel('Internal note').fill('customer is happy');
  await page.getByRole('button', { name: 'Add note' }).click();
  await page.locator('.note.note-green', { hasText: 'customer is happy' }).waitFor();

  await page.getByRole('button', { name: 'Resolve' }).first().click();
  await page.getByLabel('Resolve note').fill('answered');
  await page.locator('.inline-form').getByRole('button', { name: 'Resolve' }).click();
  await page.locator('.conversation-head .badge-resolved, .conversation-head .badge-closed').first().waitFor();
  await item.waitFor({ state: 'detached' }); // out of the open queue

  // Back with the bot.
  const after = await say('hello again');
  assert.ok(after.length > 0, 'the bot answers again after the live chat');

  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.locator('.login-card').waitFor();
  assert.deepEqual(problems, []);
});
