// The OpenFeature server SDK with the OFREP provider, unchanged, against
// dynconf's OFREP routes (API.md §12) through nginx.
import assert from 'node:assert/strict';
import { before, after, test } from 'node:test';
import { OpenFeature, ErrorCode } from '@openfeature/server-sdk';
import { OFREPProvider } from '@openfeature/ofrep-provider';
import { OFREPApi } from '@openfeature/ofrep-core';

import { BASE, api, environment, putFlag, putSegment } from './lib.mjs';

const ENV = 'clients-ofrep';
let sdkKey;
let client;

before(async () => {
  sdkKey = await environment(ENV);
  await putSegment('of-staff', { criteria: { email: { ends_with: '@example.com' } } });
  await putFlag(ENV, 'of-bool', { value: true });
  await putFlag(ENV, 'of-string', { value: 'teal' });
  await putFlag(ENV, 'of-number', { value: 7 });
  await putFlag(ENV, 'of-object', { value: { size: 'xl', tags: ['a'] } });
  await putFlag(ENV, 'of-disabled', { enabled: false, value: true, default: false });
  await putFlag(ENV, 'of-targeted', {
    criteria: { country: { in: ['PT', 'BR'] } }, value: 'lusophone', default: 'other',
    rules: [{ segments: ['of-staff'], value: 'staff' }],
  });
  await putFlag(ENV, 'of-split', {
    variants: [
      { name: 'small', value: 10, weight: 1 },
      { name: 'large', value: 100, weight: 1 },
    ],
  });
  // The SDK key as Authorization: Bearer for this client; X-API-Key below.
  await OpenFeature.setProviderAndWait('dynconf', new OFREPProvider({
    baseUrl: BASE,
    headers: [['Authorization', `Bearer ${sdkKey}`]],
  }));
  client = OpenFeature.getClient('dynconf');
});

after(async () => {
  await OpenFeature.close();
});

test('boolean, string, number and object flags, with reason', async () => {
  const b = await client.getBooleanDetails('of-bool', false);
  assert.equal(b.value, true);
  assert.equal(b.reason, 'STATIC');
  assert.equal(b.errorCode, undefined);
  assert.equal(b.flagMetadata.revision > 0, true);
  assert.equal(await client.getStringValue('of-string', 'x'), 'teal');
  assert.equal(await client.getNumberValue('of-number', 0), 7);
  assert.deepEqual(await client.getObjectValue('of-object', {}), { size: 'xl', tags: ['a'] });
});

test('a missing flag is FLAG_NOT_FOUND with the caller\'s default', async () => {
  const d = await client.getStringDetails('of-missing', 'mine');
  assert.equal(d.value, 'mine');
  assert.equal(d.errorCode, ErrorCode.FLAG_NOT_FOUND);
  assert.equal(d.reason, 'ERROR');
});

test('a disabled flag says DISABLED and serves its default', async () => {
  const d = await client.getBooleanDetails('of-disabled', true);
  assert.equal(d.value, false);
  assert.equal(d.reason, 'DISABLED');
});

test('a type mismatch is TYPE_MISMATCH with the caller\'s default', async () => {
  const d = await client.getBooleanDetails('of-string', true);
  assert.equal(d.value, true);
  assert.equal(d.errorCode, ErrorCode.TYPE_MISMATCH);
  const n = await client.getNumberDetails('of-object', 3);
  assert.equal(n.value, 3);
  assert.equal(n.errorCode, ErrorCode.TYPE_MISMATCH);
});

test('targeting through the evaluation context, and through a segment', async () => {
  const pt = await client.getStringDetails('of-targeted', 'x', { targetingKey: 'u1', country: 'PT' });
  assert.equal(pt.value, 'lusophone');
  assert.equal(pt.reason, 'TARGETING_MATCH');
  const us = await client.getStringDetails('of-targeted', 'x', { targetingKey: 'u2', country: 'US' });
  assert.equal(us.value, 'other');
  assert.equal(us.reason, 'DEFAULT');
  const staff = await client.getStringValue('of-targeted', 'x',
    { targetingKey: 'u3', country: 'US', email: 'ana@example.com' });
  assert.equal(staff, 'staff');
  // The segment changes, and the next evaluation follows it.
  await putSegment('of-staff', { criteria: { email: { ends_with: '@example.org' } } });
  const after = await client.getStringValue('of-targeted', 'x',
    { targetingKey: 'u3', country: 'US', email: 'ana@example.com' });
  assert.equal(after, 'other');
});

test('a split gives its variant, stable per targeting key', async () => {
  const seen = new Map();
  for (let i = 0; i < 16; i++) {
    const d = await client.getNumberDetails('of-split', 0, { targetingKey: `user-${i}` });
    assert.equal(d.reason, 'SPLIT');
    assert.equal(d.value, d.variant === 'small' ? 10 : 100);
    const again = await client.getNumberDetails('of-split', 0, { targetingKey: `user-${i}` });
    assert.equal(again.variant, d.variant);
    seen.set(d.variant, true);
  }
  assert.deepEqual([...seen.keys()].sort(), ['large', 'small']);
});

test('the SDK key as X-API-Key works too; a wrong one is an error, not a crash', async () => {
  await OpenFeature.setProviderAndWait('by-api-key', new OFREPProvider({
    baseUrl: BASE, headers: [['X-API-Key', sdkKey]],
  }));
  assert.equal(await OpenFeature.getClient('by-api-key').getStringValue('of-string', 'x'), 'teal');
  await OpenFeature.setProviderAndWait('wrong-key', new OFREPProvider({
    baseUrl: BASE, headers: [['X-API-Key', 'dcsdk_' + '1'.repeat(64)]],
  }));
  const d = await OpenFeature.getClient('wrong-key').getStringDetails('of-string', 'fallback');
  assert.equal(d.value, 'fallback');
  assert.equal(d.reason, 'ERROR');
  const raw = await api('POST', '/ofrep/v1/evaluate/flags/of-string', { context: {} },
    { 'X-API-Key': 'nope', 'Content-Type': 'application/json' });
  assert.equal(raw.status, 401);
  assert.equal(raw.text, '');
});

test('bulk evaluation with an ETag: 304 while nothing changed', async () => {
  const ofrep = new OFREPApi(BASE);
  const headers = [['Authorization', `Bearer ${sdkKey}`]];
  const context = { context: { targetingKey: 'bulk-1', country: 'BR' } };
  const first = await ofrep.postBulkEvaluateFlags(context, { headers });
  assert.equal(first.httpStatus, 200);
  const byKey = Object.fromEntries(first.value.flags.map((f) => [f.key, f]));
  assert.equal(byKey['of-targeted'].value, 'lusophone');
  assert.equal(byKey['of-bool'].value, true);
  const etag = first.httpResponse.headers.get('ETag');
  assert.match(etag, /^"[0-9a-f]+"$/);
  const again = await ofrep.postBulkEvaluateFlags(context,
    { headers: [...headers, ['If-None-Match', etag]] });
  assert.equal(again.httpStatus, 304);
  await putFlag(ENV, 'of-string', { value: 'navy' });
  const changed = await ofrep.postBulkEvaluateFlags(context,
    { headers: [...headers, ['If-None-Match', etag]] });
  assert.equal(changed.httpStatus, 200);
  assert.notEqual(changed.httpResponse.headers.get('ETag'), etag);
  assert.equal(changed.value.flags.find((f) => f.key === 'of-string').value, 'navy');
});

test('error bodies are the ones the provider parses', async () => {
  const headers = { Authorization: `Bearer ${sdkKey}`, 'Content-Type': 'application/json' };
  const bad = await api('POST', '/ofrep/v1/evaluate/flags/of-bool',
    { context: { targetingKey: { no: 1 } } }, headers);
  assert.equal(bad.status, 400);
  assert.deepEqual(Object.keys(bad.json).sort(), ['errorCode', 'errorDetails', 'key']);
  assert.equal(bad.json.errorCode, 'INVALID_CONTEXT');
  const parse = await fetch(`${BASE}/ofrep/v1/evaluate/flags/of-bool`,
    { method: 'POST', headers, body: '{"context":' });
  const body = await parse.json();
  assert.equal(parse.status, 400);
  assert.equal(body.key, 'of-bool');
  assert.equal(body.errorCode, 'PARSE_ERROR');
  const bulk = await fetch(`${BASE}/ofrep/v1/evaluate/flags`,
    { method: 'POST', headers, body: '{"context":[]}' });
  assert.equal(bulk.status, 400);
  assert.equal((await bulk.json()).errorCode, 'INVALID_CONTEXT');
});
