// Pages follow the data without a reload: a flag and a config entry
// written straight into etcd with etcdctl show up (through /v1/watch), and
// a flag page follows a change made elsewhere. While etcd is stopped, the
// pages say so (the banner: reads come from the replica, X-Cache: stale)
// and every editing control is off; when etcd is back, so are they.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  api, assertClean, etcd, etcdctl, eventually, go, launch, newPage, shot, signIn, PHONE,
} from './lib.mjs';

let browser;
let page;
before(async () => {
  await api('DELETE', '/v1/flags/from-etcdctl');
  await api('DELETE', '/v1/config/live/from-etcdctl');
  browser = await launch();
  page = await newPage(browser);
  await signIn(page);
});
after(async () => {
  await browser?.close();
});

test('a flag written with etcdctl appears in the list without a reload', async () => {
  await go(page, 'flags?env=default');
  await page.locator('main .empty, main table').first().waitFor();
  await page.evaluate(() => { window.__sameDocument = true; });
  etcdctl('put', '/dynconf/flags/default/from-etcdctl',
    JSON.stringify({ key: 'from-etcdctl', description: 'written by hand', enabled: true, value: 'etcd' }));
  await page.getByRole('link', { name: 'from-etcdctl' }).waitFor({ timeout: 5000 });
  await page.getByText('written by hand').waitFor();
  assert.equal(await page.evaluate(() => window.__sameDocument), true, 'the page was not reloaded');
  assertClean(page);
});

test('a config entry written with etcdctl appears in the tree, and its page follows it', async () => {
  await go(page, 'config');
  await page.evaluate(() => { window.__sameDocument = true; });
  etcdctl('put', '/dynconf/config/live/from-etcdctl', '{"retries": 3}');
  await page.getByRole('link', { name: 'live/from-etcdctl' }).waitFor({ timeout: 5000 });
  await page.getByRole('link', { name: 'live/from-etcdctl' }).click();
  await page.getByRole('heading', { name: 'live/from-etcdctl' }).waitFor();
  assert.deepEqual(JSON.parse(await page.getByLabel('Value (JSON)').inputValue()), { retries: 3 });
  etcdctl('put', '/dynconf/config/live/from-etcdctl', '{"retries": 5}');
  await eventually(async () => JSON.parse(await page.getByLabel('Value (JSON)').inputValue()).retries === 5,
    5000, 'the entry to follow etcd');
  assert.equal(await page.evaluate(() => window.__sameDocument), true, 'the page was not reloaded');
  assertClean(page);
});

test('a flag page follows a change made elsewhere', async () => {
  await go(page, 'flag?key=from-etcdctl&env=default');
  await page.getByRole('switch', { name: 'Enabled' }).waitFor();
  assert.equal(await page.getByRole('switch', { name: 'Enabled' }).isChecked(), true);
  etcdctl('put', '/dynconf/flags/default/from-etcdctl',
    JSON.stringify({ key: 'from-etcdctl', description: 'switched off by hand', enabled: false, value: 'etcd' }));
  await page.getByText('by a change made elsewhere').waitFor({ timeout: 5000 });
  assert.equal(await page.getByRole('switch', { name: 'Enabled' }).isChecked(), false);
  assert.equal(await page.getByLabel('Description', { exact: true }).inputValue(), 'switched off by hand');
  assertClean(page);
});

test('while etcd is stopped the banner shows and edits are off; then they are back', async () => {
  await go(page, 'flag?key=from-etcdctl&env=default');
  const banner = page.locator('#stale-banner');
  const save = page.getByRole('button', { name: 'Save' });
  assert.equal(await banner.isVisible(), false);
  assert.equal(await save.isEnabled(), true);
  await etcd('stop');
  try {
    await banner.waitFor({ state: 'visible', timeout: 20000 });
    assert.match(await banner.textContent(), /etcd is unreachable/);
    await eventually(async () => !(await save.isEnabled()), 5000, 'Save to be disabled');
    assert.equal(await page.getByRole('switch', { name: 'Enabled' }).isEnabled(), false);
    assert.equal(await page.getByRole('button', { name: 'Delete flag' }).isEnabled(), false);
    // Reads still answer, from the replica, and say so.
    const read = await api('GET', '/v1/flags/from-etcdctl');
    assert.equal(read.status, 200);
    assert.equal(read.headers.get('x-cache'), 'stale');
    // Every page: a list, and a page drawn while etcd is away.
    await go(page, 'flags?env=default');
    await page.getByRole('link', { name: 'from-etcdctl' }).waitFor();
    assert.equal(await page.getByRole('switch', { name: 'Enabled: from-etcdctl' }).isEnabled(), false);
    await go(page, 'config?key=live/from-etcdctl');
    await page.getByRole('heading', { name: 'live/from-etcdctl' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Save' }).isEnabled(), false);
    assert.equal(await banner.isVisible(), true);
    await shot(page, 'desktop-stale-banner');
    await page.setViewportSize(PHONE);
    await shot(page, 'phone-stale-banner');
    await page.setViewportSize({ width: 1280, height: 800 });
  } finally {
    await etcd('start');
  }
  await banner.waitFor({ state: 'hidden', timeout: 20000 });
  await eventually(async () => page.getByRole('button', { name: 'Save' }).isEnabled(), 5000, 'Save to be enabled');
  assertClean(page);
});
