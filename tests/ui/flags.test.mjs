// Flags through the UI: a segment and a flag with a rule that names it,
// made with the forms; the flag evaluated for a test context, switched off
// and the evaluation changing; switched from the list; a conflict when
// another tab changed the flag meanwhile, shown with both versions and
// resolved; the JSON fallback.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { api, assertClean, eventually, go, launch, newPage, signIn } from './lib.mjs';

let browser;
let page;
before(async () => {
  // From a clean slate, also when run again against a development stack.
  for (const key of ['checkout-v2', 'json-only']) await api('DELETE', `/v1/flags/${key}`);
  await api('DELETE', '/v1/segments/beta-testers');
  browser = await launch();
  page = await newPage(browser);
  await signIn(page);
});
after(async () => {
  await browser?.close();
});

async function evaluation(p) {
  const box = p.locator('#eval-result');
  return {
    value: await box.locator('[data-field=value]').textContent(),
    reason: await box.locator('[data-field=reason]').textContent(),
  };
}

test('a segment, then a flag with a rule naming it, made with the forms', async () => {
  await go(page, 'segments?new=1');
  await page.getByLabel('Name').fill('beta-testers');
  await page.getByLabel('Description', { exact: true }).fill('People in the beta');
  await page.getByRole('button', { name: 'Add condition' }).click();
  await page.getByLabel('Attribute', { exact: true }).fill('beta');
  await page.getByLabel('Value', { exact: true }).fill('true');
  await page.getByRole('button', { name: 'Create segment' }).click();
  await page.getByText('Saved beta-testers').waitFor();
  const segment = await api('GET', '/v1/segments/beta-testers');
  assert.equal(segment.status, 200, segment.text);
  assert.deepEqual(segment.json.criteria, { beta: true });
  assert.equal(segment.json.description, 'People in the beta');

  await go(page, 'flag?new=1&env=default');
  await page.getByLabel('Key', { exact: true }).fill('checkout-v2');
  await page.getByLabel('Description', { exact: true }).fill('The new checkout');
  const serves = page.getByRole('group', { name: 'Serves when the criteria hold' });
  await serves.getByLabel('Value', { exact: true }).fill('"everyone"');
  await page.getByLabel('Default').fill('"off-value"');
  await page.getByRole('button', { name: 'Add rule' }).click();
  const rule = page.getByRole('group', { name: 'Rule 1' });
  await rule.getByLabel('beta-testers').check();
  await rule.getByRole('button', { name: 'Add condition' }).click();
  await rule.getByLabel('Attribute', { exact: true }).fill('plan');
  await rule.getByLabel('Operator').selectOption('in');
  await rule.getByRole('group', { name: 'Conditions' }).getByLabel('Value', { exact: true }).fill('pro, gold');
  await rule.getByRole('group', { name: 'Serves' }).getByLabel('Value', { exact: true }).fill('"beta-pro"');
  await page.getByRole('button', { name: 'Create flag' }).click();
  await page.getByRole('heading', { name: 'Evaluate' }).waitFor();
  const flag = await api('GET', '/v1/flags/checkout-v2');
  assert.equal(flag.status, 200, flag.text);
  assert.equal(flag.json.value, 'everyone');
  assert.equal(flag.json.default, 'off-value');
  assert.equal(flag.json.enabled, true);
  assert.equal(flag.json.description, 'The new checkout');
  assert.deepEqual(flag.json.rules, [{ segments: ['beta-testers'], criteria: { plan: ['pro', 'gold'] }, value: 'beta-pro' }]);
  assertClean(page);
});

test('evaluate for a test context; switch the flag off and the evaluation changes', async () => {
  await go(page, 'flag?key=checkout-v2&env=default');
  const context = page.getByLabel('Context (JSON)');
  await context.fill('{"targetingKey": "u1", "plan": "pro"}');
  await page.getByRole('button', { name: 'Evaluate', exact: true }).click();
  await eventually(async () => (await evaluation(page)).reason === 'STATIC', 5000, 'STATIC');
  assert.equal((await evaluation(page)).value, '"everyone"');

  await context.fill('{"targetingKey": "u1", "plan": "pro", "beta": true}');
  await page.getByRole('button', { name: 'Evaluate', exact: true }).click();
  await eventually(async () => (await evaluation(page)).reason === 'TARGETING_MATCH', 5000, 'the rule');
  assert.equal((await evaluation(page)).value, '"beta-pro"');

  await page.getByRole('switch', { name: 'Enabled' }).uncheck();
  await page.getByText('checkout-v2 is now disabled').waitFor();
  // The same context, evaluated again by the page itself.
  await eventually(async () => (await evaluation(page)).reason === 'DISABLED', 5000, 'DISABLED');
  assert.equal((await evaluation(page)).value, '"off-value"');
  assert.equal((await api('GET', '/v1/flags/checkout-v2')).json.enabled, false);

  await page.getByRole('switch', { name: 'Enabled' }).check();
  await eventually(async () => (await evaluation(page)).reason === 'TARGETING_MATCH', 5000, 'enabled again');
  assertClean(page);
});

test('the list switches a flag on and off in place', async () => {
  await go(page, 'flags?env=default');
  const sw = page.getByRole('switch', { name: 'Enabled: checkout-v2' });
  assert.equal(await sw.isChecked(), true);
  await sw.uncheck();
  await page.getByText('checkout-v2 is now disabled').waitFor();
  assert.equal((await api('GET', '/v1/flags/checkout-v2')).json.enabled, false);
  await page.getByRole('switch', { name: 'Enabled: checkout-v2' }).check();
  await page.getByText('checkout-v2 is now enabled').waitFor();
  assert.equal((await api('GET', '/v1/flags/checkout-v2')).json.enabled, true);
  assertClean(page);
});

test('a conflict with another tab is shown with both versions and resolved', async () => {
  await go(page, 'flag?key=checkout-v2&env=default');
  const before = (await api('GET', '/v1/flags/checkout-v2')).json;
  await page.getByLabel('Description', { exact: true }).fill('Mine: the checkout of tab A');

  // Another tab (its own sign-in) changes the flag and saves first.
  const other = await newPage(browser);
  await signIn(other, undefined, '#/flag?key=checkout-v2&env=default');
  await other.getByLabel('Description', { exact: true }).fill('Theirs: changed in tab B');
  await other.getByRole('button', { name: 'Save' }).click();
  await other.getByText('Saved: revision').waitFor();

  // Tab A hears of it while editing, and its save is refused with both versions.
  await page.getByText('was changed elsewhere').waitFor();
  await page.getByRole('button', { name: 'Save' }).click();
  const conflict = page.locator('section.conflict');
  await conflict.getByRole('heading', { name: 'Someone else changed this flag' }).waitFor();
  assert.match(await conflict.locator('pre[data-version=mine]').textContent(), /Mine: the checkout of tab A/);
  assert.match(await conflict.locator('pre[data-version=theirs]').textContent(), /Theirs: changed in tab B/);
  assert.match(await conflict.textContent(), /differ in: description/);
  assert.equal((await api('GET', '/v1/flags/checkout-v2')).json.description, 'Theirs: changed in tab B');

  await conflict.getByRole('button', { name: 'Overwrite with mine' }).click();
  await page.getByText('Saved: revision').waitFor();
  assert.equal(await conflict.count(), 0);
  const now = (await api('GET', '/v1/flags/checkout-v2')).json;
  assert.equal(now.description, 'Mine: the checkout of tab A');
  assert.deepEqual(now.rules, before.rules, 'the rest of the flag is as it was');

  // Tab B, with nothing unsaved, follows at once.
  await eventually(async () => (await other.getByLabel('Description', { exact: true }).inputValue()) === 'Mine: the checkout of tab A',
    10000, 'tab B to show the saved description');
  assertClean(page);
  assertClean(other);
  await other.context().close();
});

test('taking their version drops mine', async () => {
  await go(page, 'flag?key=checkout-v2&env=default');
  await page.getByLabel('Description', { exact: true }).fill('Mine again');
  const cur = (await api('GET', '/v1/flags/checkout-v2')).json;
  const r = await api('POST', '/v1/flags/checkout-v2', { ...cur, description: 'Changed by the API', created_at: undefined, updated_at: undefined, key: undefined });
  assert.equal(r.status, 200, r.text);
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('button', { name: 'Take theirs (discard mine)' }).click();
  assert.equal(await page.getByLabel('Description', { exact: true }).inputValue(), 'Changed by the API');
  assert.equal((await api('GET', '/v1/flags/checkout-v2')).json.description, 'Changed by the API');
  assertClean(page);
});

test('JSON fallback: what the form cannot show is edited as JSON', async () => {
  const put = await api('PUT', '/v1/flags/json-only', {
    value: 1, default: 0, criteria: { version: { semver_gt: '1.2.0', regex: '^1\\.' }, tags: ['a,b', 'c'] },
  });
  assert.equal(put.status, 201, put.text);
  await go(page, 'flag?key=json-only&env=default');
  await page.getByText('edit it as JSON').waitFor();
  const doc = page.getByLabel('Flag document (JSON)');
  const text = JSON.parse(await doc.inputValue());
  assert.deepEqual(text.criteria.tags, ['a,b', 'c']);
  text.value = 2;
  await doc.fill(JSON.stringify(text));
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByText('Saved: revision').waitFor();
  assert.equal((await api('GET', '/v1/flags/json-only')).json.value, 2);
  // Form and JSON: switching shows the same flag.
  await go(page, 'flag?key=checkout-v2&env=default');
  await page.getByRole('button', { name: 'JSON', exact: true }).click();
  const asJson = JSON.parse(await page.getByLabel('Flag document (JSON)').inputValue());
  assert.equal(asJson.rules[0].value, 'beta-pro');
  await page.getByRole('button', { name: 'Form', exact: true }).click();
  await page.getByRole('group', { name: 'Rule 1' }).waitFor();
  // Invalid JSON is said at once and not saved.
  await page.getByRole('button', { name: 'JSON', exact: true }).click();
  await page.getByLabel('Flag document (JSON)').fill('{"value": tru');
  await page.getByText('Not JSON').first().waitFor();
  await page.getByRole('button', { name: 'Save' }).click();
  assert.equal((await api('GET', '/v1/flags/checkout-v2')).json.rules[0].value, 'beta-pro');
  assertClean(page);
});
