// What the client tests share: the stack's addresses (from tests/clients/run)
// and an admin client for setting up environments, segments and flags.
import assert from 'node:assert/strict';

export const BASE = process.env.DYNCONF_URL ?? 'http://127.0.0.1:8080';
export const ADMIN_TOKEN = process.env.DYNCONF_ADMIN_TOKEN ?? '';

// One request with the admin token (or the headers given); the parsed body.
export async function api(method, path, body, headers) {
  const response = await fetch(BASE + path, {
    method,
    headers: headers ?? {
      Authorization: `Bearer ${ADMIN_TOKEN}`,
      'Content-Type': 'application/json',
    },
    body: body === undefined ? undefined : JSON.stringify(body),
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

// A fresh environment (its SDK key), named for the test file.
export async function environment(name) {
  await api('DELETE', `/v1/environments/${name}?cascade=true`);
  const made = await api('POST', '/v1/environments', { name });
  assert.equal(made.status, 201, made.text);
  return made.json.sdk_key;
}

export async function putSegment(name, segment) {
  const r = await api('PUT', `/v1/segments/${name}`, segment);
  assert.ok(r.status === 200 || r.status === 201, r.text);
  return r.json;
}

export async function putFlag(env, key, flag) {
  const r = await api('PUT', `/v1/flags/${key}?env=${env}`, flag);
  assert.ok(r.status === 200 || r.status === 201, r.text);
  return r.json;
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
