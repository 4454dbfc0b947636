// Flagsmith's own Node.js SDK (flagsmith-nodejs 8.1.2), unchanged, pointed
// at dynconf's Flagsmith SDK API (API.md §11) through nginx.
import assert from 'node:assert/strict';
import { before, after, test } from 'node:test';
import { Flagsmith } from 'flagsmith-nodejs';
import { pino } from 'pino';

import { BASE, api, environment, putFlag, putSegment } from './lib.mjs';

const ENV = 'clients-flagsmith';
const logger = pino({ level: 'silent' });
let sdkKey;
let flagsmith;

function client(options = {}) {
  return new Flagsmith({
    environmentKey: sdkKey,
    apiUrl: `${BASE}/api/v1/`,
    requestTimeoutSeconds: 5,
    retries: 0,
    logger,
    ...options,
  });
}

before(async () => {
  sdkKey = await environment(ENV);
  await putSegment('fs-beta', { description: 'beta testers', criteria: { beta: true } });
  await putFlag(ENV, 'fs-bool', { value: true });
  await putFlag(ENV, 'fs-string', { value: 'blue' });
  await putFlag(ENV, 'fs-number', { value: 42.5 });
  await putFlag(ENV, 'fs-json', { value: { limits: [1, 2], on: true } });
  await putFlag(ENV, 'fs-disabled', { enabled: false, value: 'new', default: 'old' });
  await putFlag(ENV, 'fs-targeted', {
    criteria: { plan: 'pro' }, value: 'pro-ui', default: 'basic-ui',
  });
  await putFlag(ENV, 'fs-segment', {
    value: 'everyone', rules: [{ segments: ['fs-beta'], value: 'beta-ui' }],
  });
  await putFlag(ENV, 'fs-split', {
    variants: [
      { name: 'red', value: 'red', weight: 50 },
      { name: 'green', value: 'green', weight: 50 },
    ],
  });
  flagsmith = client();
});

after(async () => {
  await flagsmith?.close();
});

test('environment flags: enabled and values of every JSON type', async () => {
  const flags = await flagsmith.getEnvironmentFlags();
  assert.equal(flags.isFeatureEnabled('fs-bool'), true);
  assert.equal(flags.getFeatureValue('fs-bool'), true);
  assert.equal(flags.getFeatureValue('fs-string'), 'blue');
  assert.equal(flags.getFeatureValue('fs-number'), 42.5);
  assert.deepEqual(flags.getFeatureValue('fs-json'), { limits: [1, 2], on: true });
  assert.equal(flags.isFeatureEnabled('fs-string'), true);
  // Without a context, a targeted flag has its default.
  assert.equal(flags.getFeatureValue('fs-targeted'), 'basic-ui');
});

test('a flag change is served at once, to the same client', async () => {
  assert.equal((await flagsmith.getEnvironmentFlags()).getFeatureValue('fs-string'), 'blue');
  await putFlag(ENV, 'fs-string', { value: 'red' });
  try {
    for (let i = 0; i < 6; i++)
      assert.equal((await flagsmith.getEnvironmentFlags()).getFeatureValue('fs-string'), 'red');
  } finally {
    await putFlag(ENV, 'fs-string', { value: 'blue' });
  }
  assert.equal((await flagsmith.getEnvironmentFlags()).getFeatureValue('fs-string'), 'blue');
});

test('a disabled flag is not enabled, and serves its default', async () => {
  const flags = await flagsmith.getEnvironmentFlags();
  assert.equal(flags.isFeatureEnabled('fs-disabled'), false);
  assert.equal(flags.getFeatureValue('fs-disabled'), 'old');
});

test('feature ids are stable non-zero integers', async () => {
  const first = (await flagsmith.getEnvironmentFlags()).getFlag('fs-bool');
  await putFlag(ENV, 'fs-bool', { value: true, description: 'changed' });
  const second = (await client().getEnvironmentFlags()).getFlag('fs-bool');
  assert.ok(Number.isInteger(first.featureId) && first.featureId > 0, `${first.featureId}`);
  assert.equal(second.featureId, first.featureId);
  assert.equal(first.featureName, 'fs-bool');
  const other = (await flagsmith.getEnvironmentFlags()).getFlag('fs-string');
  assert.notEqual(other.featureId, first.featureId);
});

test('an unknown flag goes to the SDK default handling', async () => {
  const flags = await flagsmith.getEnvironmentFlags();
  assert.equal(flags.isFeatureEnabled('fs-nope'), false);
  assert.equal(flags.getFlag('fs-nope').isDefault, true);
});

test('identity traits change a targeted flag', async () => {
  const pro = await flagsmith.getIdentityFlags('fs-user-1', { plan: 'pro' });
  assert.equal(pro.getFeatureValue('fs-targeted'), 'pro-ui');
  const free = await flagsmith.getIdentityFlags('fs-user-2', { plan: 'free' });
  assert.equal(free.getFeatureValue('fs-targeted'), 'basic-ui');
});

test('identity traits change a flag through a segment, and a segment change reaches it at once', async () => {
  const beta = await flagsmith.getIdentityFlags('fs-user-3', { beta: true });
  assert.equal(beta.getFeatureValue('fs-segment'), 'beta-ui');
  const plain = await flagsmith.getIdentityFlags('fs-user-4', { beta: false });
  assert.equal(plain.getFeatureValue('fs-segment'), 'everyone');
  await putSegment('fs-beta', { criteria: { beta: false } });
  try {
    const now = await flagsmith.getIdentityFlags('fs-user-4', { beta: false });
    assert.equal(now.getFeatureValue('fs-segment'), 'beta-ui');
  } finally {
    await putSegment('fs-beta', { description: 'beta testers', criteria: { beta: true } });
  }
});

test('a split flag gives each identifier a stable answer, and both answers occur', async () => {
  const seen = new Set();
  for (let i = 0; i < 20; i++) {
    const id = `fs-split-${i}`;
    const a = (await flagsmith.getIdentityFlags(id)).getFeatureValue('fs-split');
    const b = (await client().getIdentityFlags(id)).getFeatureValue('fs-split');
    assert.equal(a, b, id);
    seen.add(a);
  }
  assert.deepEqual([...seen].sort(), ['green', 'red']);
});

test('traits stored by one call are used by the next', async () => {
  await flagsmith.getIdentityFlags('fs-user-5', { plan: 'pro' });
  const later = await client().getIdentityFlags('fs-user-5');
  assert.equal(later.getFeatureValue('fs-targeted'), 'pro-ui');
  const stored = await api('GET', '/api/v1/identities/?identifier=fs-user-5', undefined,
    { 'X-Environment-Key': sdkKey });
  assert.deepEqual(stored.json.traits, [{ trait_key: 'plan', trait_value: 'pro' }]);
  // A null value removes the trait.
  await flagsmith.getIdentityFlags('fs-user-5', { plan: null });
  const removed = await client().getIdentityFlags('fs-user-5');
  assert.equal(removed.getFeatureValue('fs-targeted'), 'basic-ui');
});

test('transient traits and transient identities are used but not stored', async () => {
  const once = await flagsmith.getIdentityFlags('fs-user-6',
    { plan: { value: 'pro', transient: true } });
  assert.equal(once.getFeatureValue('fs-targeted'), 'pro-ui');
  const after6 = await client().getIdentityFlags('fs-user-6');
  assert.equal(after6.getFeatureValue('fs-targeted'), 'basic-ui');

  const transient = await flagsmith.getIdentityFlags('fs-user-7', { plan: 'pro' }, true);
  assert.equal(transient.getFeatureValue('fs-targeted'), 'pro-ui');
  const after7 = await client().getIdentityFlags('fs-user-7');
  assert.equal(after7.getFeatureValue('fs-targeted'), 'basic-ui');
  const none = await api('GET', '/api/v1/identities/?identifier=fs-user-7', undefined,
    { 'X-Environment-Key': sdkKey });
  assert.deepEqual(none.json.traits, []);
});

test('a wrong environment key sends the SDK to its default flag handler', async () => {
  const defaults = [];
  const wrong = new Flagsmith({
    environmentKey: 'dcsdk_' + '0'.repeat(64),
    apiUrl: `${BASE}/api/v1/`,
    retries: 0,
    logger,
    defaultFlagHandler: (name) => {
      defaults.push(name);
      return { enabled: true, value: 'fallback', isDefault: true };
    },
  });
  const flags = await wrong.getEnvironmentFlags();
  assert.equal(flags.getFeatureValue('fs-bool'), 'fallback');
  assert.deepEqual(defaults, ['fs-bool']);
  const identity = await wrong.getIdentityFlags('fs-user-8', { plan: 'pro' });
  assert.equal(identity.getFeatureValue('fs-targeted'), 'fallback');
  // And the exact body Flagsmith answers.
  const raw = await api('GET', '/api/v1/flags/', undefined, { 'X-Environment-Key': 'nope' });
  assert.equal(raw.status, 403);
  assert.deepEqual(raw.json, { detail: 'Invalid or missing Environment key' });
  // Without a key at all, and without a default handler, the SDK throws.
  await assert.rejects(new Flagsmith({ environmentKey: 'x', apiUrl: `${BASE}/api/v1/`,
    retries: 0, logger }).getEnvironmentFlags());
});

test('analytics the SDK sends are counted in the metrics', async () => {
  const counting = client({ enableAnalytics: true });
  const flags = await counting.getEnvironmentFlags();
  for (let i = 0; i < 3; i++) flags.isFeatureEnabled('fs-string');
  flags.getFeatureValue('fs-number');
  await counting.analyticsProcessor.flush();
  const metrics = await api('GET', '/v1/metrics');
  assert.match(metrics.text,
    /dynconf_flag_evaluations_reported_total\{environment="clients-flagsmith",flag="fs-string"\} 3\n/);
  assert.match(metrics.text,
    /dynconf_flag_evaluations_reported_total\{environment="clients-flagsmith",flag="fs-number"\} 1\n/);
});

test('?feature= gives one flag, or the 404 Flagsmith answers', async () => {
  const headers = { 'X-Environment-Key': sdkKey };
  const one = await api('GET', '/api/v1/flags/?feature=fs-string', undefined, headers);
  assert.equal(one.status, 200);
  assert.equal(one.json.feature.name, 'fs-string');
  assert.equal(one.json.feature_state_value, 'blue');
  assert.equal(one.json.feature.type, 'STANDARD');
  const split = await api('GET', '/api/v1/flags/?feature=fs-split', undefined, headers);
  assert.equal(split.json.feature.type, 'MULTIVARIATE');
  const missing = await api('GET', '/api/v1/flags/?feature=fs-nope', undefined, headers);
  assert.equal(missing.status, 404);
  assert.deepEqual(missing.json, { detail: 'Given feature not found' });
});
