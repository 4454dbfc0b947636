// What the UI tests share: the stack's addresses (from tests/ui/run), an
// API client for setting data up and checking it, etcdctl, the browser
// (Debian's chromium, headless, through playwright-core), signing in,
// screenshots, and axe-core.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { chromium } from 'playwright-core';

export const BASE = process.env.DYNCONF_URL ?? 'http://127.0.0.1:8080';
export const ADMIN_TOKEN = process.env.DYNCONF_ADMIN_TOKEN ?? '';
export const ETCD = process.env.DYNCONF_ETCD ?? 'http://127.0.0.1:2379';
export const CONTROL = process.env.DYNCONF_CONTROL ?? '';
export const ARTIFACTS = process.env.DYNCONF_ARTIFACTS ?? '/tmp';
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// One request (the admin token unless another is given); the parsed body.
export async function api(method, urlPath, body, { token = ADMIN_TOKEN, headers = {} } = {}) {
  const h = { ...headers };
  if (token) h.Authorization = `Bearer ${token}`;
  if (body !== undefined) h['Content-Type'] = 'application/json';
  const response = await fetch(BASE + urlPath, {
    method, headers: h, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, json, text };
}

// An API token with these scopes: {token, id}, once the node's replica
// knows it (the write that made it may still be on its way there).
export async function makeToken(name, scopes) {
  const r = await api('POST', '/v1/tokens', { name, scopes });
  assert.equal(r.status, 201, r.text);
  await eventually(async () => (await api('GET', '/v1/whoami', undefined, { token: r.json.token })).status === 200,
    5000, `the token ${name} to work`);
  return r.json;
}

export function etcdctl(...args) {
  return execFileSync('etcdctl', ['--endpoints', ETCD, ...args], {
    env: { ...process.env, ETCDCTL_API: '3' }, encoding: 'utf8', timeout: 10000,
  });
}

// Stop or start the stack's etcd (tests/ui/run's control endpoint).
export async function etcd(action) {
  const r = await fetch(`${CONTROL}/etcd/${action}`, { method: 'POST' });
  assert.ok(r.ok, `etcd ${action}: ${r.status} ${await r.text()}`);
}

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    // As root (CI), chromium's sandbox cannot start.
    args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
  });
}

// A page in a fresh context (a tab of its own: its own sessionStorage),
// with what goes wrong in it collected: uncaught errors, Content Security
// Policy refusals, dialogs (accepted, and remembered).
export async function newPage(browser, viewport = DESKTOP) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.setDefaultTimeout(10000);
  page.problems = [];
  page.dialogs = [];
  page.on('pageerror', (e) => page.problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    const text = m.text();
    if (/Content Security Policy|Refused to/i.test(text)) page.problems.push(`CSP: ${text}`);
  });
  page.on('dialog', async (d) => {
    page.dialogs.push(d.message());
    await d.accept();
  });
  return page;
}

// Sign in with a token through the login form; resolves once the
// navigation shows.
export async function signIn(page, token = ADMIN_TOKEN, hash = '') {
  await page.goto(`${BASE}/ui/${hash}`);
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#sign-out').waitFor({ state: 'visible' });
}

export async function go(page, hash) {
  await page.goto(`${BASE}/ui/#/${hash}`);
  await page.locator('main h1').first().waitFor();
}

// No uncaught error, no CSP refusal so far on the page.
export function assertClean(page) {
  assert.deepEqual(page.problems, [], page.problems.join('\n'));
}

// The page's serious and critical axe-core violations, as text.
export async function axeProblems(page) {
  const result = await new AxeBuilder({ page }).analyze();
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).slice(0, 5).join(', ')})`);
}

export async function shot(page, name) {
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

// Poll fn until it returns something truthy (or throw after ms).
export async function eventually(fn, ms = 10000, what = 'the condition') {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${last}`);
    await sleep(200);
  }
}
