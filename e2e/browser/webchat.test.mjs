// Browser test of the web chat: playwright-core drives Debian's chromium
// against a running `switchboard serve` (started by e2e/browser_test.go,
// which passes its address in SWITCHBOARD_URL) that runs flows/examples.
//
//   go test ./e2e -run TestBrowser     (or: make e2e)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const base = process.env.SWITCHBOARD_URL;
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
// Step timeout: generous for a slow CI machine, short enough to fail fast.
const T = 15_000;

let context;
let profile;

before(async () => {
  assert.ok(base, 'SWITCHBOARD_URL is not set: run this through `go test ./e2e -run TestBrowser`, which starts the server');
  assert.ok(existsSync(executablePath), `${executablePath} is missing: install Debian's chromium (make browser-deps)`);
  // A fresh profile each run: a new visitor, no stored web chat token.
  profile = await mkdtemp(join(tmpdir(), 'switchboard-chromium-'));
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

// transcript is the conversation as shown: author and text of each message.
async function transcript(page) {
  return page.$$eval('.sbw-log .sbw-msg', (els) => els.map((e) => {
    const author = ['user', 'bot', 'agent', 'system'].find((a) => e.classList.contains('sbw-' + a)) || '?';
    const text = e.firstElementChild && e.firstElementChild.classList.length === 0 ? e.firstElementChild.textContent : '';
    return `${author}: ${text}`;
  }));
}

function botSays(page, text) {
  return page.locator('.sbw-log .sbw-msg.sbw-bot', { hasText: text }).last().waitFor({ timeout: T });
}

// settled waits until no user message is pending (all stored by the server).
function settled(page) {
  return page.waitForFunction(() => document.querySelectorAll('.sbw-log .sbw-pending').length === 0, null, { timeout: T });
}

test('web chat demo: two turns, reload keeps the history, continue; user text is never HTML', async () => {
  const page = context.pages()[0] || await context.newPage();
  try {
    await chat(page);
  } catch (e) {
    // Show what the visitor saw.
    const status = await page.locator('.sbw-status').textContent().catch(() => '?');
    const quick = await page.$$eval('.sbw-quick .sbw-btn', (els) => els.map((e) => e.textContent)).catch(() => []);
    console.log(`widget status: ${JSON.stringify(status)}\nquick replies: ${JSON.stringify(quick)}\ntranscript:\n  ${(await transcript(page).catch(() => [])).join('\n  ')}`);
    throw e;
  }
});

async function chat(page) {
  const dialogs = [];
  page.on('dialog', async (d) => { dialogs.push(`${d.type()}: ${d.message()}`); await d.dismiss().catch(() => {}); });
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));

  await page.goto(`${base}/webchat/demo?bot=support`);
  const input = page.locator('.sbw-input');
  await input.waitFor({ state: 'visible' });

  // Turn 1: "hi" → greeting and the menu.
  await input.fill('hi');
  await input.press('Enter');
  await botSays(page, "Hi there! I'm Acme's assistant.");
  const menu = page.locator('.sbw-log .sbw-msg.sbw-bot', { hasText: 'How can I help?' }).last();
  await menu.waitFor();
  for (const title of ['Track my order', 'Questions', 'Talk to a human']) {
    await menu.locator('.sbw-btn', { hasText: title }).waitFor();
  }
  await page.locator('.sbw-quick .sbw-btn', { hasText: 'Pricing' }).waitFor();

  // Turn 2: the "Questions" button.
  await menu.locator('.sbw-btn', { hasText: 'Questions' }).click();
  await botSays(page, 'What would you like to know?');
  for (const title of ['Opening hours', 'Returns', 'Shipping']) {
    await page.locator('.sbw-quick .sbw-btn', { hasText: title }).waitFor();
  }
  await settled(page);
  const before = await transcript(page);
  assert.deepEqual(before.filter((l) => l.startsWith('user: ')), ['user: hi', 'user: Questions']);

  // Reload: the same history comes back from the server.
  await page.reload();
  await page.locator('.sbw-log .sbw-msg.sbw-bot', { hasText: 'What would you like to know?' }).waitFor();
  await page.waitForFunction((n) => document.querySelectorAll('.sbw-log .sbw-msg').length >= n, before.length, { timeout: T });
  assert.deepEqual(await transcript(page), before, 'the history after the reload differs from before');

  // Continue: the quick reply "Shipping" of the last bot message.
  await page.locator('.sbw-quick .sbw-btn', { hasText: 'Shipping' }).click();
  await botSays(page, 'Shipping is free from 50 EUR');
  await botSays(page, 'Anything else?');

  // A script payload typed by the user is shown as text, literally.
  const payload = '<script>alert("xss")</script><img src=x onerror="window.__xss=1;alert(1)"><b>bold</b>';
  await input.fill(payload);
  await input.press('Enter');
  const mine = page.locator('.sbw-log .sbw-msg.sbw-user').last();
  await mine.waitFor();
  await settled(page);
  assert.equal(await mine.locator('div').first().textContent(), payload);
  // Give any injected handler time to run (the broken image would fire at once).
  await page.waitForTimeout(500);
  assert.equal(await page.locator('.sbw-log script, .sbw-log img, .sbw-log b').count(), 0, 'user text became HTML');
  assert.equal(await page.evaluate(() => window.__xss), undefined, 'an injected handler ran');
  assert.deepEqual(dialogs, [], 'a dialog opened');
  assert.deepEqual(pageErrors, [], 'the page threw');

  // After another reload, the stored payload is still shown literally.
  await page.reload();
  const stored = page.locator('.sbw-log .sbw-msg.sbw-user').last();
  await page.locator('.sbw-log .sbw-msg.sbw-user', { hasText: 'alert("xss")' }).waitFor();
  assert.equal(await stored.locator('div').first().textContent(), payload);
  await page.waitForTimeout(300);
  assert.equal(await page.locator('.sbw-log script, .sbw-log img, .sbw-log b').count(), 0, 'stored user text became HTML');
  assert.deepEqual(dialogs, [], 'a dialog opened after the reload');
}
