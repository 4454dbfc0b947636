// Everything the UI shows is text: flag keys (one written into etcd by hand,
// breaking the naming rule), descriptions, values, config values, segment
// descriptions, user names, lock holders and service metadata that hold
// HTML and script show as the characters they are. No script runs, no
// element is made from them.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { api, assertClean, etcdctl, go, launch, newPage, signIn } from './lib.mjs';

const img = (tag) => `<img src=x onerror="window.__pwned='${tag}'">`;
const script = (tag) => `<script>window.__pwned='${tag}'</script>`;
const HTML_KEY = `<img src=x onerror=window.__pwned=1>`;
// Without quotes: shown inside JSON (metadata), it reads the same.
const BARE = `<img src=x onerror=window.__pwned=5>`;

let browser;
let page;
before(async () => {
  etcdctl('put', `/dynconf/flags/default/${HTML_KEY}`, JSON.stringify({
    key: HTML_KEY, description: script('flag description'), enabled: true, value: img('flag value'),
  }));
  await api('DELETE', '/v1/flags/xss-described');
  const flag = await api('PUT', '/v1/flags/xss-described', {
    description: `${img('description')}${script('description')}<b>bold</b>`, value: img('value'), default: false,
  });
  assert.equal(flag.status, 201, flag.text);
  assert.equal((await api('PUT', '/v1/config/xss/value', { value: `${img('config')}<b>bold</b>` })).status, 201);
  assert.equal((await api('PUT', '/v1/config/xss/object', { value: { [script('config key')]: img('config nested') } })).status, 201);
  await api('PUT', '/v1/segments/xss-seg', { description: img('segment'), criteria: { [img('attr')]: 'x' } });
  await api('POST', '/v1/users', { name: `${img('user')} Mallory`, email: 'mallory@example.com' });
  const svc = await api('POST', '/v1/services/xss-svc/instances',
    { endpoint: 'http://10.0.0.9:80', ttl: 60, metadata: { note: BARE } });
  assert.equal(svc.status, 201, svc.text);
  await api('POST', '/v1/locks/xss-lock', { holder: img('holder'), ttl: 60 });
  browser = await launch();
  page = await newPage(browser);
  await signIn(page);
  await page.evaluate(() => localStorage.setItem('dynconf.locks', JSON.stringify(['xss-lock'])));
});
after(async () => {
  await browser?.close();
});

// Nothing was made of the markup, nothing ran.
async function assertInert(where) {
  const made = await page.locator('main img, main script, main b, #nav img').count();
  assert.equal(made, 0, `${where}: elements made from data`);
  assert.equal(await page.evaluate(() => window.__pwned), undefined, `${where}: a script ran`);
  assert.deepEqual(page.dialogs, [], `${where}: a dialog opened`);
  assertClean(page);
}

test('flag keys, descriptions and values show as text', async () => {
  await go(page, 'flags?env=default');
  await page.getByRole('link', { name: HTML_KEY }).waitFor();
  await page.getByText(script('flag description'), { exact: true }).waitFor();
  await page.getByText(`${img('description')}${script('description')}<b>bold</b>`, { exact: true }).waitFor();
  await page.getByText(JSON.stringify(img('value')), { exact: true }).waitFor();
  await assertInert('flags');
  await page.getByRole('link', { name: HTML_KEY }).click();
  await page.locator('main h1').getByText(HTML_KEY, { exact: true }).waitFor();
  await assertInert('the page of a key breaking the rule');
  await go(page, 'flag?key=xss-described&env=default');
  assert.equal(await page.getByLabel('Description', { exact: true }).inputValue(),
    `${img('description')}${script('description')}<b>bold</b>`);
  await page.getByRole('button', { name: 'Evaluate', exact: true }).click();
  await page.locator('#eval-result [data-field=value]').getByText(JSON.stringify(img('value'))).waitFor();
  await assertInert('flag');
});

test('config values show as text, in the tree and the editor', async () => {
  await go(page, 'config?prefix=xss/');
  await page.locator('.preview[data-key="xss/value"]').waitFor();
  assert.equal(await page.locator('.preview[data-key="xss/value"]').textContent(),
    JSON.stringify(`${img('config')}<b>bold</b>`).slice(0, 47) + '…');
  await page.getByRole('link', { name: 'xss/object' }).click();
  await page.getByRole('heading', { name: 'xss/object' }).waitFor();
  assert.deepEqual(JSON.parse(await page.getByLabel('Value (JSON)').inputValue()),
    { [script('config key')]: img('config nested') });
  await assertInert('config');
});

test('segments, users, services and locks show their data as text', async () => {
  await go(page, 'segments?name=xss-seg');
  await page.getByText(img('segment'), { exact: true }).first().waitFor();
  assert.equal(await page.getByLabel('Attribute', { exact: true }).inputValue(), img('attr'));
  await assertInert('segments');
  await go(page, 'users?search=Mallory');
  await page.getByRole('link', { name: `${img('user')} Mallory` }).waitFor();
  await assertInert('users');
  await go(page, 'services');
  await page.getByText(BARE, { exact: false }).first().waitFor();
  await assertInert('services');
  await go(page, 'locks');
  await page.getByText(img('holder'), { exact: true }).waitFor();
  await assertInert('locks');
});
