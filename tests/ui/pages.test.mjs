// Every page at desktop (1280x800) and phone (390x844) width: a screenshot
// of each (written to $DYNCONF_ARTIFACTS, desktop-NAME.png and
// phone-NAME.png), and axe-core finds no serious or critical violation
// (WCAG 2 A and AA rules among them: labels, contrast, names, landmarks).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  ADMIN_TOKEN, BASE, DESKTOP, PHONE, api, assertClean, axeProblems, go, launch, newPage, shot, signIn,
} from './lib.mjs';

let browser;
const pages = {};

async function seed() {
  for (const env of ['qa-1280', 'qa-390']) await api('DELETE', `/v1/environments/${env}?cascade=true`);
  await api('POST', '/v1/environments', { name: 'staging' });
  await api('PUT', '/v1/segments/beta', { description: 'Opted into the beta', criteria: { beta: true } });
  await api('PUT', '/v1/segments/eu-customers', { description: 'Billing country in the EU', criteria: { country: ['DE', 'FR', 'PT', 'ES'] } });
  const flags = {
    'new-checkout': {
      description: 'The one-page checkout', value: true, default: false, criteria: { region: 'US' },
      rules: [{ segments: ['beta'], criteria: { plan: ['pro', 'gold'] }, value: true }, { criteria: { age: { lt: 18 } }, value: false }],
    },
    'search-ranking': {
      description: 'Ranking model served', default: 'v1',
      variants: [{ name: 'v1', value: 'v1', weight: 80 }, { name: 'v2', value: 'v2', weight: 20 }],
    },
    'dark-mode': { description: 'Dark theme for everyone', value: true, enabled: false },
    'max-upload-mb': { description: 'Upload limit', value: 25, default: 10, rules: [{ segments: ['eu-customers'], value: 50 }] },
  };
  for (const [key, doc] of Object.entries(flags)) await api('PUT', `/v1/flags/${key}`, doc);
  const config = {
    'app/http/retries': 3, 'app/http/timeout_ms': 2500, 'app/features': { search: true, export: ['csv', 'json'] },
    'billing/currency': 'EUR', 'billing/tax/rates': { DE: 0.19, FR: 0.2, PT: 0.23 },
  };
  for (const [key, value] of Object.entries(config)) await api('PUT', `/v1/config/${key}`, { value });
  for (const [name, email, age] of [['Maria Silva', 'maria@example.com', 28], ['João Souza', 'joao@example.com', 41], ['Ana Lima', 'ana@example.com', 35]]) {
    await api('POST', '/v1/users', { name, email, age, team: 'payments' });
  }
  for (const [svc, endpoint, ttl] of [['billing', 'http://10.0.0.5:8080', 300], ['billing', 'http://10.0.0.6:8080', 120], ['search', 'http://10.0.1.2:9200', 60]]) {
    await api('POST', `/v1/services/${svc}/instances`, { endpoint, ttl, metadata: { zone: 'eu-west-1a' } });
  }
  await api('POST', '/v1/locks/nightly-report', { holder: 'worker-3', ttl: 600 });
  await api('POST', '/v1/tokens', { name: 'ci-deploy', scopes: ['flags:write'], ttl: 86400 });
  await api('POST', '/v1/tokens', { name: 'grafana', scopes: ['metrics:read'] });
}

// name -> how to show it (page is signed in, unless said otherwise).
const VIEWS = {
  login: { out: true, show: async (p) => { await p.goto(`${BASE}/ui/`); await p.getByLabel('API token').waitFor(); } },
  flags: { show: (p) => go(p, 'flags?env=default').then(() => p.getByRole('link', { name: 'new-checkout' }).waitFor()) },
  flag: {
    show: async (p) => {
      await go(p, 'flag?key=new-checkout&env=default');
      await p.getByLabel('Context (JSON)').fill('{"targetingKey": "u1", "plan": "pro", "beta": true}');
      await p.getByRole('button', { name: 'Evaluate', exact: true }).click();
      await p.locator('#eval-result dl').waitFor();
    },
  },
  'flag-variants': { show: (p) => go(p, 'flag?key=search-ranking&env=default').then(() => p.getByRole('group', { name: 'Variants' }).waitFor()) },
  'flag-new': { show: (p) => go(p, 'flag?new=1&env=default') },
  'flag-conflict': {
    show: async (p) => {
      await go(p, 'flag?key=dark-mode&env=default');
      await p.getByLabel('Description', { exact: true }).fill('Dark theme, opt-in');
      const cur = (await api('GET', '/v1/flags/dark-mode')).json;
      await api('POST', '/v1/flags/dark-mode', { description: 'Dark theme for staff only', value: cur.value, enabled: cur.enabled, revision: cur.revision });
      await p.getByRole('button', { name: 'Save' }).click();
      await p.getByRole('heading', { name: 'Someone else changed this flag' }).waitFor();
    },
  },
  segments: { show: (p) => go(p, 'segments?name=eu-customers').then(() => p.getByRole('heading', { name: 'Segment eu-customers' }).waitFor()) },
  environments: {
    show: async (p) => {
      await go(p, 'environments');
      await p.getByRole('textbox', { name: 'New environment' }).fill(`qa-${p.viewportSize().width}`);
      await p.getByRole('button', { name: 'Create' }).click();
      await p.locator('[data-secret=sdk_key]').waitFor();
    },
  },
  config: { show: (p) => go(p, 'config?key=billing/tax/rates').then(() => p.getByRole('heading', { name: 'billing/tax/rates' }).waitFor()) },
  users: {
    show: async (p) => {
      await go(p, 'users');
      await p.getByRole('link', { name: 'Maria Silva' }).click();
      await p.getByRole('heading', { name: 'User Maria Silva' }).waitFor();
    },
  },
  services: { show: (p) => go(p, 'services').then(() => p.getByRole('heading', { name: 'billing' }).waitFor()) },
  locks: {
    show: async (p) => {
      await go(p, 'locks');
      await p.getByLabel('Lock name').fill('nightly-report');
      await p.getByRole('button', { name: 'Look up' }).click();
      await p.getByText('worker-3').waitFor();
    },
  },
  tokens: {
    show: async (p) => {
      await go(p, 'tokens');
      await p.getByLabel('Name', { exact: true }).fill(`screenshot-${p.viewportSize().width}`);
      await p.getByRole('checkbox', { name: 'flags:read' }).check();
      await p.getByRole('button', { name: 'Create token' }).click();
      await p.locator('[data-secret=token]').waitFor();
    },
  },
  audit: { show: (p) => go(p, 'audit').then(() => p.locator('main table, main .notice, main .empty').first().waitFor()) },
  health: { show: (p) => go(p, 'health').then(() => p.locator('.kv').waitFor()) },
  docs: {
    show: async (p) => {
      await p.goto(`${BASE}/v1/docs`);
      await p.locator('.swagger-ui .opblock').first().waitFor();
      // One operation open, in "Try it out" (its parameters' controls).
      const op = p.locator('#operations-default-get_v1_flags');
      const tryOut = op.locator('.try-out__btn');
      if (!(await tryOut.isVisible())) await op.locator('.opblock-summary-control').click();
      await tryOut.waitFor();
      if (!(await op.locator('.execute').count())) await tryOut.click();
      await op.locator('.execute').waitFor();
    },
  },
};

before(async () => {
  await seed();
  browser = await launch();
  for (const [name, viewport] of [['desktop', DESKTOP], ['phone', PHONE]]) {
    const signedIn = await newPage(browser, viewport);
    await signIn(signedIn, ADMIN_TOKEN);
    pages[name] = { in: signedIn, out: await newPage(browser, viewport) };
  }
});
after(async () => {
  await browser?.close();
});

for (const [name, view] of Object.entries(VIEWS)) {
  test(`${name}: screenshots at desktop and phone width, no serious or critical axe violation`, async () => {
    const problems = [];
    for (const size of ['desktop', 'phone']) {
      const page = view.out ? pages[size].out : pages[size].in;
      await view.show(page);
      await shot(page, `${size}-${name}`);
      for (const p of await axeProblems(page)) problems.push(`${size}: ${p}`);
      assertClean(page);
    }
    assert.deepEqual(problems, [], problems.join('\n'));
  });
}

test('phone: the navigation folds behind a Menu button that opens it', async () => {
  const page = pages.phone.in;
  await go(page, 'flags');
  assert.equal(await page.locator('#nav').isVisible(), false);
  const menu = page.getByRole('button', { name: 'Menu' });
  assert.equal(await menu.getAttribute('aria-expanded'), 'false');
  await menu.click();
  assert.equal(await menu.getAttribute('aria-expanded'), 'true');
  await page.getByRole('link', { name: 'Config' }).waitFor();
  await shot(page, 'phone-menu');
  assert.deepEqual(await axeProblems(page), []);
  await page.getByRole('link', { name: 'Config' }).click();
  await page.getByRole('heading', { name: 'Config' }).waitFor();
  assert.equal(await page.locator('#nav').isVisible(), false);
  // Nothing wider than the screen: no sideways scrolling of the page.
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than the phone`);
});

test('keyboard: the skip link, then the navigation, are reached with Tab', async () => {
  const page = pages.desktop.in;
  await go(page, 'flags');
  await page.reload();
  await page.getByRole('heading', { name: 'Flags' }).waitFor();
  const names = [];
  for (let i = 0; i < 5; i++) {
    await page.keyboard.press('Tab');
    names.push(await page.evaluate(() => document.activeElement.textContent.trim()));
  }
  assert.deepEqual(names, ['Skip to content', 'dynconf admin', 'Sign out', 'Flags', 'Segments']);
  await page.reload();
  await page.getByRole('heading', { name: 'Flags' }).waitFor();
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'main');
  // Following a link of the navigation puts the focus on the new page's title.
  await page.locator('#nav-list a', { hasText: 'Config' }).focus();
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Config' }).waitFor();
  await page.waitForFunction(() => document.activeElement?.tagName === 'H1');
});
