// Signing in with a pasted token, and where the token goes: this tab's
// sessionStorage, the Authorization header, never an address or a cookie.
// A token that dynconf refuses is told so. A read-only token is offered
// no editing control anywhere, and no page it may not read.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  ADMIN_TOKEN, BASE, api, assertClean, eventually, go, launch, makeToken, newPage, signIn,
} from './lib.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test('a pasted token signs in, stays in sessionStorage only, and signs out', async () => {
  const page = await newPage(browser);
  const sent = [];
  page.on('request', (r) => sent.push({ url: r.url(), auth: r.headers().authorization ?? '' }));
  await page.goto(`${BASE}/ui/`);
  await page.getByLabel('API token').fill('dct_' + '0'.repeat(64));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('dynconf did not accept this token.').waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);

  await page.getByLabel('API token').fill(ADMIN_TOKEN);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('Signed in as').waitFor();
  await page.getByRole('heading', { name: 'Flags' }).waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem('dynconf.token')), ADMIN_TOKEN);
  assert.equal(await page.evaluate(() => localStorage.length), 0);
  assert.deepEqual(await page.context().cookies(), []);
  assert.ok(!page.url().includes(ADMIN_TOKEN));
  assert.ok(sent.length > 0);
  for (const r of sent) assert.ok(!r.url.includes(ADMIN_TOKEN.slice(4, 20)), r.url);
  assert.ok(sent.some((r) => r.url.endsWith('/v1/whoami') && r.auth === `Bearer ${ADMIN_TOKEN}`));

  // Another tab knows nothing of it.
  const other = await page.context().newPage();
  await other.goto(`${BASE}/ui/`);
  await other.getByLabel('API token').waitFor();

  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('API token').waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);
  assertClean(page);
  await page.context().close();
});

test('a revoked token is sent back to the sign-in form', async () => {
  const made = await makeToken('ui-short-lived', ['flags:read']);
  const page = await newPage(browser);
  await signIn(page, made.token);
  assert.equal((await api('DELETE', `/v1/tokens/${made.id}`)).status, 204);
  const answers = [];
  page.on('response', (r) => answers.push(`${r.status()} ${new URL(r.url()).pathname}`));
  // Revocation reaches every node within a second or so: the next page
  // read after it is refused, and the page goes back to the sign-in form.
  const login = page.getByLabel('API token');
  await eventually(async () => {
    if (await login.isVisible()) return true;
    await page.goto(`${BASE}/ui/#/segments?t=${Date.now()}`);
    await page.waitForTimeout(300);
    return login.isVisible();
  }, 15000, 'the sign-in form').catch((e) => {
    throw new Error(`${e.message}; answers since the revocation: ${answers.join(', ')}`);
  });
  await page.getByText('The token was refused').waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);
  await page.context().close();
});

test('a read-only token sees no edit controls', async () => {
  const reader = await makeToken('ui-reader', ['flags:read', 'config:read', 'users:read', 'services:read']);
  const put = await api('PUT', '/v1/flags/ro-flag', { value: true, default: false, description: 'read me' });
  assert.ok(put.status === 200 || put.status === 201, put.text);
  assert.equal((await api('PUT', '/v1/config/ro/entry', { value: { a: 1 } })).status >= 200, true);
  const user = await api('POST', '/v1/users', { name: 'Read Only', email: 'ro@example.com' });
  assert.equal(user.status, 201, user.text);
  await api('PUT', '/v1/segments/ro-seg', { criteria: { plan: 'pro' } });

  const page = await newPage(browser);
  await signIn(page, reader.token);
  const nav = await page.locator('#nav-list a').allTextContents();
  assert.deepEqual(nav, ['Flags', 'Segments', 'Environments', 'Config', 'Users', 'Services', 'Health', 'API docs']);

  const noEditing = async (where) => {
    const main = page.locator('main');
    const editable = await main.locator('[data-edit], input:not([type=search]):not([id=eval-context]), textarea:not(#eval-context), select').evaluateAll(
      (els) => els.filter((e) => !e.closest('form[role=search]')).map((e) => e.outerHTML.slice(0, 120)));
    assert.deepEqual(editable, [], `${where}: editing controls`);
    for (const name of ['Save', 'Delete', 'New flag', 'New entry', 'New user', 'New segment', 'Create', 'Rotate SDK key', 'Deregister']) {
      assert.equal(await main.getByRole('button', { name, exact: false }).count() +
        await main.getByRole('link', { name, exact: true }).count(), 0, `${where}: ${name}`);
    }
  };
  await go(page, 'flags');
  await page.getByRole('link', { name: 'ro-flag' }).waitFor();
  assert.equal(await page.getByRole('switch').count(), 0);
  await noEditing('flags');
  await page.getByRole('link', { name: 'ro-flag' }).click();
  await page.getByRole('heading', { name: 'Evaluate' }).waitFor();
  await noEditing('flag');
  await go(page, 'config?key=ro/entry');
  await page.locator('pre[data-role=value]').waitFor();
  await noEditing('config');
  await go(page, `users?id=${user.json.id}`);
  await page.getByRole('heading', { name: 'Read Only' }).waitFor();
  await noEditing('users');
  await go(page, 'segments?name=ro-seg');
  await page.getByRole('heading', { name: 'Segment ro-seg' }).waitFor();
  await noEditing('segments');
  await go(page, 'environments');
  await page.getByRole('link', { name: 'default' }).waitFor();
  await noEditing('environments');
  await go(page, 'services');
  await noEditing('services');
  // A page it may not read says so rather than failing.
  await go(page, 'tokens');
  await page.getByText('This token may not read this page').waitFor();
  assertClean(page);
  await page.context().close();
});
